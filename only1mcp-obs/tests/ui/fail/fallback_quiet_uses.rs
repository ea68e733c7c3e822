// One mistake in a `metrics!` invocation is the only error: every item it declares is still
// declared, with the same API, so code using them adds no errors of its own.
use only1mcp_obs::LabelValue;

#[derive(Clone, Copy, LabelValue)]
pub enum Region {
    Eu,
    Us,
}

only1mcp_obs::metrics! {
    pub dynamic Tenant { max: 10, overflow: "_other" }

    /// Requests per tenant, region and status.
    pub counter REQUESTS = "demo_requests" {
        labels: { tenant: Tenant, region: Region, status: ["ok", "error"] },
    }

    /// Request latency.
    pub histogram LATENCY = "demo_latency_seconds" {
        unit: seconds,
        buckets: [0.1, 1.0],
    }
}

fn main() {
    let tenant = Tenant::new("acme");
    REQUESTS.labels(tenant, Region::Eu, RequestsStatus::Ok).inc();
    REQUESTS.labels(Tenant::OVERFLOW, Region::Us, RequestsStatus::Error).inc_by(2);
    LATENCY.labels().observe(0.2);
    assert_eq!(REQUESTS.descriptor().name, "demo_requests_total");
    assert_eq!(RequestsStatus::ALL.len(), 2);
    assert!(!tenant.is_overflow());
    let labels = REQUESTS.label_refs();
    let _ = (labels.tenant.is_named("acme"), labels.region.is(Region::Eu));
    let _ = (labels.status.name(), REQUESTS.promql().name(), LATENCY.promql().bucket());
}
