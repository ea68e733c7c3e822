only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { status: ["ok", "error"] },
        objectives: [availability(99.9, 30)],
    }
}
fn main() {}
