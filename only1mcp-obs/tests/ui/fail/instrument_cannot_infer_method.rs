#[only1mcp_obs::mcp_instrumented]
fn handle_request() {}
fn main() {}
