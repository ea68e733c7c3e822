//! The configuration file: the example in the repository loads; every kind of bad value is
//! reported with the file, the key path and the value.

use only1mcp_obs::ObservabilityConfig;
use only1mcp_obs::trace::{OtlpProtocol, SamplingStrategy};
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/observability.yaml")
}

#[test]
fn the_example_file_loads() {
    let config = ObservabilityConfig::from_file(&example()).expect("example config");
    assert_eq!(config.metrics.port, 9090);
    assert_eq!(config.tracing.exporter.protocol, OtlpProtocol::Grpc);
    assert_eq!(config.tracing.sampling.strategy, SamplingStrategy::Adaptive);
    assert_eq!(config.tracing.sampling.adaptive_rules.len(), 2);
    assert_eq!(config.logging.outputs.len(), 2);
    assert_eq!(config.audit.output.retention_days, 90);
    assert_eq!(
        config.health.readiness.checks,
        ["config", "cache", "backends"]
    );
}

/// Replaces `from` by `to` in the example and loads it.
fn broken(from: &str, to: &str) -> only1mcp_obs::config::ConfigError {
    let text = std::fs::read_to_string(example()).expect("example");
    assert!(text.contains(from), "{from}");
    let path = std::env::temp_dir().join(format!(
        "broken-{}-{}.yaml",
        std::process::id(),
        from.len() * 31 + to.len()
    ));
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    let err = ObservabilityConfig::from_file(&path).expect_err("must be refused");
    let _ = std::fs::remove_file(&path);
    assert_eq!(err.source, path.display().to_string(), "names the file");
    err
}

#[test]
fn each_kind_of_bad_value_names_file_key_and_value() {
    let cases = [
        // (replace, with, key, value, a word of the message)
        (
            "rate: 0.01",
            "rate: lots",
            "observability.tracing.sampling.rate",
            "lots",
            "invalid type",
        ),
        (
            "rate: 0.01",
            "rate: 1.5",
            "observability.tracing.sampling.rate",
            "1.5",
            "from 0 to 1",
        ),
        (
            "rate: 0.05",
            "rate: -1",
            "observability.tracing.sampling.adaptive_rules[0].rate",
            "-1",
            "from 0 to 1",
        ),
        (
            "protocol: grpc",
            "protocol: carrier-pigeon",
            "observability.tracing.exporter.protocol",
            "carrier-pigeon",
            "unknown variant",
        ),
        (
            "    type: prometheus",
            "    type: statsd",
            "observability.metrics.type",
            "statsd",
            "expected `prometheus`",
        ),
        (
            r#"formats: ["tracecontext", "baggage"]"#,
            r#"formats: ["tracecontext", "b3"]"#,
            "observability.tracing.propagation.formats[1]",
            "b3",
            "expected `tracecontext` or `baggage`",
        ),
        (
            "port: 9090",
            "port: 99999",
            "observability.metrics.port",
            "99999",
            "invalid value",
        ),
        (
            "level: info\n    format",
            "level: loud\n    format",
            "observability.logging.level",
            "loud",
            "not a level",
        ),
        (
            "      - type: stdout",
            "      - type: loki",
            "observability.logging.outputs[0]",
            "",
            "endpoint",
        ),
        (
            "per_user: false",
            "per_user: true",
            "observability.metrics.detailed.per_user",
            "true",
            "unbounded",
        ),
        (
            "    type: otlp",
            "    type: zipkin",
            "observability.tracing.type",
            "zipkin",
            "unknown variant",
        ),
        (
            "      path: /health/live",
            "      path: health/live",
            "observability.health.liveness.path",
            "health/live",
            "starting with",
        ),
        (
            "      retention_days: 90",
            "      retention_days: 0",
            "observability.audit.output.retention_days",
            "0",
            "at least one day",
        ),
        (
            "  profiling:\n    enabled: false",
            "  profiling:\n    enabled: true",
            "observability.profiling.enabled",
            "true",
            "not built in",
        ),
        (
            "    enabled: true\n    type: prometheus",
            "    enabled: true\n    typo: prometheus",
            "observability.metrics.typo",
            "prometheus",
            "unknown field `typo`",
        ),
        (
            "endpoint: \"http://127.0.0.1:4317\"",
            "endpoint: \"collector:4317\"",
            "observability.tracing.exporter.endpoint",
            "collector:4317",
            "http://",
        ),
    ];
    for (from, to, key, value, word) in cases {
        let err = broken(from, to);
        assert_eq!(err.key, key, "{err}");
        if !value.is_empty() {
            assert_eq!(err.value, value, "{err}");
        }
        assert!(err.message.contains(word), "{err}");
        let text = err.to_string();
        assert!(text.contains(&err.source) && text.contains(key), "{text}");
    }
}

#[test]
fn a_missing_file_says_which() {
    let err = ObservabilityConfig::from_file(Path::new("/nonexistent/observability.yaml"))
        .expect_err("missing");
    assert!(
        err.to_string().contains("/nonexistent/observability.yaml"),
        "{err}"
    );
}
