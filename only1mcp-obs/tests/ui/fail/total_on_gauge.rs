only1mcp_obs::metrics! {
    /// Connections open now.
    pub gauge CONNECTIONS = "demo_connections_total" {}
}
fn main() {}
