#[only1mcp_obs::mcp_instrumented(method = "ping", level = "very verbose")]
fn ping() {}
fn main() {}
