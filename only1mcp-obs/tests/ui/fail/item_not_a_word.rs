only1mcp_obs::metrics! {
    /// Requests.
    pub "requests" REQUESTS = "demo_requests_total" {}
}
fn main() {}
