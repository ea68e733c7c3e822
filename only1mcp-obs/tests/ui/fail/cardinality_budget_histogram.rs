only1mcp_obs::metrics! {
    pub dynamic Backend { max: 9, overflow: "_other" }
    pub dynamic Method { max: 8, overflow: "_other" }

    /// Call latency per backend and method: 90 label sets, 15 series each.
    pub histogram CALL_LATENCY = "demo_call_latency_seconds" {
        unit: seconds,
        buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0],
        labels: { backend: Backend, method: Method },
    }
}
fn main() {}
