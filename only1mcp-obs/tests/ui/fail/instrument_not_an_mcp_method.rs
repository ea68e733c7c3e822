#[only1mcp_obs::mcp_instrumented(method = "tools/cal")]
fn forward() {}
fn main() {}
