//! The aggregator's startup summary says what is in effect, the environment included.

use only1mcp_obs_e2e::mcp_http::Aggregator;

#[test]
fn the_startup_summary_reads_the_configuration_in_effect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let audit = audit.to_str().expect("path");
    // Nothing listens there: export fails quietly, the summary must still say where it goes.
    let endpoint = "http://127.0.0.1:9";
    let exported = Aggregator::start(
        &["--audit", audit],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "30000"),
        ],
    );
    assert_eq!(
        exported.printed["traces"],
        format!("exported over OTLP to {endpoint}")
    );
    assert_eq!(
        exported.printed["metrics push"],
        format!("over OTLP to {endpoint}/v1/metrics every 30 s")
    );
    assert_eq!(exported.printed["audit"], audit);
    drop(exported);
    let quiet = Aggregator::start(&["--audit", audit], &[]);
    assert!(
        quiet.printed["traces"].starts_with("not exported"),
        "{:?}",
        quiet.printed
    );
    assert!(!quiet.printed.contains_key("metrics push"));
}
