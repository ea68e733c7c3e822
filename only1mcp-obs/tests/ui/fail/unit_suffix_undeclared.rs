only1mcp_obs::metrics! {
    /// Time spent.
    pub counter BUSY = "demo_busy_seconds_total" {}
}
fn main() {}
