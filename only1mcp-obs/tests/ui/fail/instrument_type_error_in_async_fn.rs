#[only1mcp_obs::mcp_instrumented(method = "tools/call")]
async fn call_tool(name: &str) -> Result<u32, std::io::Error> {
    let _ = name;
    Ok("forty-two")
}
fn main() {}
