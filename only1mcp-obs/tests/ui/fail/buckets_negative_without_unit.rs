only1mcp_obs::metrics! {
    /// Queue length at each sampling.
    pub histogram QUEUE_LENGTH = "demo_queue_length" {
        buckets: [-1.0, 0.0, 10.0],
    }
}
fn main() {}
