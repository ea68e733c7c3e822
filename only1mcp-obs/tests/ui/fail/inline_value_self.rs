only1mcp_obs::metrics! {
    /// Requests, by who made them.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { origin: ["self", "peer"] },
    }
}
fn main() {}
