only1mcp_obs::metrics! {
    /// Queue depth.
    pub gauge DEPTH = "demo_queue_depth" {
        objectives: [availability(99.9)],
    }
}
fn main() {}
