only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        bukets: [0.1, 1.0],
    }
}
fn main() {}
