only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "_other" }

    /// Requests.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { tenant: Tenant },
    }
}
fn main() {
    // A free string never becomes a series: it must go through the bounded domain.
    REQUESTS.labels("acme").inc();
}
