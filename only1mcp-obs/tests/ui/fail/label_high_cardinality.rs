only1mcp_obs::metrics! {
    pub dynamic User { max: 10, overflow: "_other" }

    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { user_id: User },
    }
}
fn main() {}
