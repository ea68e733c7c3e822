only1mcp_obs::metrics! {
    /// Requests.
    pub counter REQUESTS = "Requests-Total" {}
}
fn main() {}
