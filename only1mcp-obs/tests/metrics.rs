//! Behaviour of typed handles, bounded domains and the exposition page.

use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, McpMethod, RequestStatus, ServerId};
use only1mcp_obs::metrics::{check, encode_text, families};
use only1mcp_obs::{LabelValue, metrics};

metrics! {
    /// A tenant: at most 3 are kept.
    pub dynamic Tenant { max: 3, overflow: "_other", max_len: 8 }

    /// Requests per tenant (test family).
    pub counter TENANT_REQUESTS = "test_tenant_requests_total" {
        labels: { tenant: Tenant, kind: ["read", "write"] },
    }

    /// Optional label (test family).
    pub gauge MAYBE = "test_maybe_labelled" {
        labels: { tenant: Option<Tenant> },
    }

    /// Observation sizes (test family).
    pub histogram SIZES = "test_sizes_bytes" {
        unit: bytes,
        buckets: [10, 100, 1000],
    }
}

fn line_value(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn dynamic_domain_is_bounded_and_overflow_is_counted() {
    for name in ["a", "b", "c", "d", "e", "f"] {
        TENANT_REQUESTS
            .labels(Tenant::new(name), TenantRequestsKind::Read)
            .inc();
    }
    // Empty and overlong values never take a slot.
    assert!(Tenant::new("").is_overflow());
    assert!(Tenant::new("much-too-long").is_overflow());
    assert_eq!(Tenant::new("a"), Tenant::new("a"));
    assert_eq!(Tenant::new("zzz"), Tenant::OVERFLOW);
    assert_eq!(Tenant::OVERFLOW.as_str(), "_other");

    let page = encode_text();
    assert_eq!(
        line_value(
            &page,
            r#"test_tenant_requests_total{tenant="a",kind="read"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        line_value(
            &page,
            r#"test_tenant_requests_total{tenant="_other",kind="read"}"#
        ),
        Some(3.0)
    );
    assert!(!page.contains(r#"tenant="d""#));
    assert_eq!(
        line_value(
            &page,
            r#"only1mcp_obs_label_overflow_total{metric="test_tenant_requests_total",label="tenant"}"#
        ),
        Some(3.0)
    );
}

#[test]
fn many_hostile_values_keep_memory_bounded() {
    // 100k distinct values through a 3-slot domain: the table never grows past 3.
    for i in 0..100_000u32 {
        let v = Tenant::new(&format!("{i}\"\n\\"));
        assert!(v.index() < <Tenant as LabelValue>::CARDINALITY);
    }
    let admitted = (0..=3)
        .filter_map(|i| <Tenant as LabelValue>::DOMAIN.value_at(i))
        .count();
    assert!(admitted <= 4);
}

#[test]
fn optional_label_is_absent_when_none() {
    MAYBE.labels(None).set(7.0);
    let page = encode_text();
    assert_eq!(line_value(&page, "test_maybe_labelled"), Some(7.0));
}

#[test]
fn histogram_buckets_are_cumulative_and_nan_is_ignored() {
    let h = SIZES.labels();
    for v in [5.0, 10.0, 50.0, 5000.0, f64::NAN] {
        h.observe(v);
    }
    let page = encode_text();
    assert_eq!(
        line_value(&page, r#"test_sizes_bytes_bucket{le="10.0"}"#),
        Some(2.0)
    );
    assert_eq!(
        line_value(&page, r#"test_sizes_bytes_bucket{le="100.0"}"#),
        Some(3.0)
    );
    assert_eq!(
        line_value(&page, r#"test_sizes_bytes_bucket{le="1000.0"}"#),
        Some(3.0)
    );
    assert_eq!(
        line_value(&page, r#"test_sizes_bytes_bucket{le="+Inf"}"#),
        Some(4.0)
    );
    assert_eq!(line_value(&page, "test_sizes_bytes_count"), Some(4.0));
    assert_eq!(line_value(&page, "test_sizes_bytes_sum"), Some(5065.0));
}

#[test]
fn concurrent_increments_are_not_lost() {
    let handle = MCP_REQUESTS_TOTAL.labels(
        ServerId::new("concurrency"),
        McpMethod::Ping,
        RequestStatus::Success,
    );
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| (0..10_000).for_each(|_| handle.inc()));
        }
    });
    assert_eq!(handle.get(), 80_000.0);
}

#[test]
fn every_declared_family_is_registered_once() {
    check().expect("no duplicate names");
    let names: Vec<_> = families().iter().map(|d| d.name).collect();
    for expected in [
        "only1mcp_mcp_requests_total",
        "only1mcp_mcp_request_duration_seconds",
        "only1mcp_context_tokens_saved_total",
        "only1mcp_context_cache_hit_ratio",
        "only1mcp_backend_health_status",
        "only1mcp_backend_latency_seconds",
        "only1mcp_connection_pool_size",
        "only1mcp_connection_reuse_ratio",
        "only1mcp_api_cost_dollars_total",
        "only1mcp_memory_usage_bytes",
        "only1mcp_cpu_usage_percent",
        "mcp_client_operation_duration_seconds",
        "mcp_server_operation_duration_seconds",
        "mcp_client_session_duration_seconds",
        "mcp_server_session_duration_seconds",
        "only1mcp_obs_label_overflow_total",
        "test_tenant_requests_total",
        "test_maybe_labelled",
        "test_sizes_bytes",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} is not registered: {names:?}"
        );
    }
    let page = encode_text();
    for name in names {
        assert!(
            page.contains(&format!("# TYPE {name} ")),
            "{name} missing from the page"
        );
    }
}

#[test]
fn mcp_method_names_round_trip() {
    for m in McpMethod::ALL {
        assert_eq!(McpMethod::from_name(m.as_str()), m);
    }
    assert_eq!(
        McpMethod::from_name("tools/call\u{0}evil"),
        McpMethod::Other
    );
}
