#[only1mcp_obs::mcp_instrumented(method = "tools/call", fields(%attempt = 3))]
fn call_tool() {}
fn main() {}
