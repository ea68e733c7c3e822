//! Arbitrary values for every key of the configuration: each gives a clear error or a working
//! configuration (its `/metrics` and health routes build on one server), never a panic.

use only1mcp_obs::ObservabilityConfig;
use only1mcp_obs::health::Health;
use proptest::prelude::*;
use std::path::Path;

/// Every key of the `observability` section, as a path.
const KEYS: &[&str] = &[
    "metrics.enabled",
    "metrics.address",
    "metrics.port",
    "metrics.path",
    "metrics.type",
    "metrics.detailed.per_tool",
    "metrics.detailed.per_backend",
    "metrics.detailed.per_user",
    "metrics.detailed.histograms",
    "metrics.latency_buckets",
    "metrics.allowed_hosts",
    "metrics.bearer_token_file",
    "metrics.exemplars",
    "tracing.enabled",
    "tracing.type",
    "tracing.service_name",
    "tracing.service_version",
    "tracing.environment",
    "tracing.namespace",
    "tracing.exporter.endpoint",
    "tracing.exporter.protocol",
    "tracing.exporter.timeout_seconds",
    "tracing.sampling.strategy",
    "tracing.sampling.rate",
    "tracing.sampling.adaptive_rules",
    "tracing.propagation.formats",
    "tracing.batch.max_queue_size",
    "tracing.batch.max_queue_bytes",
    "tracing.batch.max_export_batch_size",
    "tracing.batch.scheduled_delay_ms",
    "tracing.limits.max_attribute_length",
    "tracing.limits.max_attributes_per_span",
    "tracing.limits.max_events_per_span",
    "logging.level",
    "logging.format",
    "logging.outputs",
    "logging.redact.enabled",
    "logging.redact.patterns",
    "logging.log_calls",
    "logging.slow_call_ms",
    "audit.enabled",
    "audit.include",
    "audit.output.type",
    "audit.output.path",
    "audit.output.format",
    "audit.output.retention_days",
    "audit.output.max_size_mb",
    "audit.output.max_files",
    "audit.output.fsync",
    "audit.output.fsync_interval_ms",
    "health.enabled",
    "health.address",
    "health.port",
    "health.path",
    "health.liveness.path",
    "health.liveness.timeout_seconds",
    "health.liveness.checks",
    "health.readiness.path",
    "health.readiness.timeout_seconds",
    "health.readiness.checks",
    "health.startup.path",
    "health.startup.timeout_seconds",
    "health.allowed_hosts",
    "profiling.enabled",
    "profiling.type",
    "profiling.port",
    "profiling.path",
];

/// A YAML scalar of any kind, biased toward the edges: extreme integers, non-finite floats,
/// empty, huge and route-like strings.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        prop_oneof![Just(0i64), Just(1), Just(-1), Just(65_536), Just(1 << 40)]
            .prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        prop_oneof![
            Just(".nan"),
            Just(".inf"),
            Just("-.inf"),
            Just("~"),
            Just("-0.0")
        ]
        .prop_map(str::to_owned),
        "[a-z_/{}*:.-]{0,12}".prop_map(|s| format!("{s:?}")),
        prop_oneof![
            Just("/metrics"),
            Just("/health/live"),
            Just("/health/ready"),
            Just("/"),
            Just("//"),
            Just("/{id}"),
            Just("/*rest"),
            Just("127.0.0.1"),
            Just("::1"),
            Just("http://127.0.0.1:4317"),
            Just("grpc"),
            Just("always"),
            Just("json"),
            Just("file"),
        ]
        .prop_map(|s| format!("{s:?}")),
        any::<String>().prop_map(|s| format!("{s:?}")),
    ]
}

/// A scalar, or a list of scalars, or a small map.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => (scalar(), scalar()).prop_map(|(a, b)| format!("{{type: {a}, path: {b}}}")),
    ]
}

/// A document setting `assignments` (key path, YAML value) under `observability`.
fn document(assignments: &[(usize, String)]) -> String {
    let mut tree = serde_json::Map::new();
    for (key, value) in assignments {
        let mut node = &mut tree;
        let parts: Vec<&str> = KEYS[*key].split('.').collect();
        for part in &parts[..parts.len() - 1] {
            let entry = node
                .entry(part.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            match entry {
                serde_json::Value::Object(map) => node = map,
                _ => return String::new(),
            }
        }
        node.insert(
            parts[parts.len() - 1].to_owned(),
            serde_json::Value::String(value.clone()),
        );
    }
    let mut out = String::from("observability:\n");
    render(&tree, 1, &mut out);
    out
}

/// YAML block mappings; leaves are inserted verbatim (they are YAML already).
fn render(map: &serde_json::Map<String, serde_json::Value>, depth: usize, out: &mut String) {
    for (key, value) in map {
        let indent = "  ".repeat(depth);
        match value {
            serde_json::Value::Object(inner) => {
                out.push_str(&format!("{indent}{key}:\n"));
                render(inner, depth + 1, out);
            }
            serde_json::Value::String(yaml) => out.push_str(&format!("{indent}{key}: {yaml}\n")),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn any_value_for_any_key_is_an_error_or_a_working_configuration(
        assignments in prop::collection::vec((0..KEYS.len(), value()), 1..6)
    ) {
        let text = document(&assignments);
        match ObservabilityConfig::from_yaml(&text, Path::new("fuzz.yaml")) {
            Err(e) => {
                // The error names the file, and a key or a reason.
                let shown = e.to_string();
                prop_assert!(shown.contains("fuzz.yaml"), "{}", shown);
            }
            Ok(config) => {
                // Both route sets build and merge on one server without a conflict.
                let health = only1mcp_obs::health::router(Health::new(), &config.health);
                if let Ok(metrics) = only1mcp_obs::metrics::router_for(&config.metrics) {
                    let _app: axum::Router = metrics.merge(health);
                }
            }
        }
    }
}
