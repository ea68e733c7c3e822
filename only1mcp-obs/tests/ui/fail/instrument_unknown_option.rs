#[only1mcp_obs::mcp_instrumented(methd = "tools/call")]
fn call_tool() {}
fn main() {}
