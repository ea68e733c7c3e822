#[only1mcp_obs::mcp_instrumented(method = "ping", level = "verbose")]
fn ping() {}
fn main() {}
