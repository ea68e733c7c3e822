only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        buckets: [1.0, 2.0],
    }
}
fn main() {}
