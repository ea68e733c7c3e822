only1mcp_obs::metrics! {
    /// Items in the queue.
    pub gauge QUEUE = "demo_queue_count" {}
}
fn main() {}
