only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {}

    /// Requests again.
    pub counter REQUESTS_AGAIN = "demo_requests_total" {}
}
fn main() {}
