only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        objectives: [latency(0.5, 99.0)],
    }
}
fn main() {}
