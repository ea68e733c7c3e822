only1mcp_obs::metrics! {
    /// Internal.
    pub gauge INTERNAL = "__demo_internal" {}
}
fn main() {}
