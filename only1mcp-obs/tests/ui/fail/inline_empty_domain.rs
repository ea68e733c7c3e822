only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { status: [] },
    }
}
fn main() {}
