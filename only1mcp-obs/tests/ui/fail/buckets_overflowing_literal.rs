only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        buckets: [0.1, 1.0, 1e999],
    }
}
fn main() {}
