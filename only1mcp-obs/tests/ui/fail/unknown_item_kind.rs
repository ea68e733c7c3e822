only1mcp_obs::metrics! {
    /// Requests.
    pub summary REQUESTS = "demo_requests_seconds" {}
}
fn main() {}
