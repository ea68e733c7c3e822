use only1mcp_obs::{LabelValue, metrics};

/// Where a request was routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, LabelValue)]
pub enum Route {
    Primary,
    #[label(value = "fallback-pool")]
    Fallback,
    #[label(error)]
    Rejected,
}

metrics! {
    /// A tenant; bounded.
    pub dynamic Tenant { max: 8, overflow: "_other", max_len: 32 }

    /// Requests without labels.
    pub counter PLAIN = "pass_plain_total" {}

    /// Requests per tenant and route.
    pub counter REQUESTS = "pass_requests_total" {
        labels: { tenant: Tenant, route: Route, r#type: ["read", "write"] },
    }

    /// Queue depth.
    pub gauge DEPTH = "pass_queue_depth" {
        labels: { error_type: Option<Tenant> },
    }

    /// Temperature can be negative.
    pub histogram TEMPERATURE = "pass_temperature_celsius" {
        unit: celsius,
        buckets: [-10, 0, 10.5, 30],
    }

    /// A user label, explicitly allowed.
    pub counter LOGINS = "pass_logins_total" {
        labels: { #[allow_high_cardinality(reason = "ids of the 8 service accounts")] user_id: Tenant },
        budget: 9,
    }
}

fn main() {
    PLAIN.labels().inc();
    REQUESTS.labels(Tenant::new("acme"), Route::Fallback, RequestsType::Write).inc_by(2);
    DEPTH.labels(None).set(3.0);
    TEMPERATURE.labels().observe(-3.5);
    LOGINS.labels(Tenant::OVERFLOW).inc();
    assert_eq!(Route::Fallback.as_str(), "fallback-pool");
    assert_eq!(REQUESTS.descriptor().max_series(), 9 * 3 * 2);
}
