only1mcp_obs::metrics! {
    pub dynamic User { max: 10, overflow: "_other" }

    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { #[allow_high_cardinality(because = "few users")] user_id: User },
    }
}
fn main() {}
