only1mcp_obs::metrics! {
    /// Requests.
    #[allow(dead_code)]
    pub counter REQUESTS = "demo_requests_total" {}
}
fn main() {}
