#[only1mcp_obs::mcp_instrumented(method = "tools/call", fields("jsonrpc.request.id"))]
fn call_tool(id: u64) {
    let _ = id;
}
fn main() {}
