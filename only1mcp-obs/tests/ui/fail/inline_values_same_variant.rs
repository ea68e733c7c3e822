only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { status: ["ok", "not-found", "not_found"] },
    }
}
fn main() {}
