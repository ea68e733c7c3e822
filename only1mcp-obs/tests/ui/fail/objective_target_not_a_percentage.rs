only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { status: ["ok", "error"] },
        objectives: [availability(100)],
    }
}
fn main() {}
