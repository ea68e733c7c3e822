struct Credentials {
    token: String,
}

#[only1mcp_obs::mcp_instrumented(method = "tools/call", fields(%credentials))]
fn call_tool(credentials: &Credentials) {
    let _ = &credentials.token;
}
fn main() {}
