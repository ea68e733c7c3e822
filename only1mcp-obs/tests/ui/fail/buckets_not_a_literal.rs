const ONE: f64 = 1.0;

only1mcp_obs::metrics! {
    /// Latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        buckets: [0.1, ONE],
    }
}
fn main() {
    let _ = ONE;
}
