#[only1mcp_obs::mcp_instrumented(skip)]
fn call_tool() {}
fn main() {}
