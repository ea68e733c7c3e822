#[only1mcp_obs::mcp_instrumented(method = "ping", kind = proxy)]
fn ping() {}
fn main() {}
