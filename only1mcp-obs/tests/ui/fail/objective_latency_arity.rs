only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        buckets: [0.1, 0.5, 1.0],
        objectives: [latency(0.5)],
    }
}
fn main() {}
