only1mcp_obs::metrics! {
    /// Requests handled.
    pub counter REQUESTS = "demo_requests" {}
}
fn main() {}
