#[only1mcp_obs::mcp_instrumented(method = "tools/call", fields(name, name = "again"))]
fn call_tool(name: &str) {
    let _ = name;
}
fn main() {}
