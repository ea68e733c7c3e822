only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_milliseconds" {
        buckets: [1.0, 10.0],
    }
}
fn main() {}
