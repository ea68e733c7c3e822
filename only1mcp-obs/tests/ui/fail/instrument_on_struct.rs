#[only1mcp_obs::mcp_instrumented(method = "ping")]
struct Handler;
fn main() {}
