only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        buckets: [],
    }
}
fn main() {}
