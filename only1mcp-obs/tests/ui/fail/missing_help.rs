only1mcp_obs::metrics! {
    pub gauge QUEUE = "demo_queue_length" {}
}
fn main() {}
