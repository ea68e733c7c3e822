#[only1mcp_obs::mcp_instrumented(method = "tools/call", fields(tool_nme))]
fn forward(tool_name: &str) {
    let _ = tool_name;
}
fn main() {}
