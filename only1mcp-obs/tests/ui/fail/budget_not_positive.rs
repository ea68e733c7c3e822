only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        budget: 0,
    }
}
fn main() {}
