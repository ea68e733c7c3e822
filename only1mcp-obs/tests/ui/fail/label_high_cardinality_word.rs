only1mcp_obs::metrics! {
    pub dynamic Customer { max: 50, overflow: "_other" }

    /// Logins per customer address.
    pub counter LOGINS = "demo_logins_total" {
        labels: { customer_ip: Customer },
    }
}
fn main() {}
