// Syntax errors in two items are both reported, and code using the items adds no errors.
only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "_other", maxlen: 32 }

    /// Requests per tenant and status.
    pub counter REQUESTS = "demo_requests_total" {
        labels: { tenant: Tenant, status: ["ok", "error"] },
        objectives: [availability(99.9) latency],
    }

    /// Queue depth.
    pub gauge DEPTH = "demo_queue_depth" {}
}

fn main() {
    REQUESTS.labels(Tenant::new("acme"), RequestsStatus::Error).inc_by(2);
    DEPTH.labels().set(3.0);
    println!("{}", Tenant::OVERFLOW);
}
