#[only1mcp_obs::mcp_instrumented(method = "ping")]
const fn ping() -> u8 {
    1
}
fn main() {}
