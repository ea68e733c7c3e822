only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        objectives: [throughput(100)],
    }
}
fn main() {}
