#[only1mcp_obs::mcp_instrumented(method = "tools/call", kind = client, kind = server)]
fn forward() {}
fn main() {}
