//! End to end through a live stack, on each backend (local processes and containers) and each
//! generation (Prometheus 3.16 / Alertmanager 0.35, and 2.42 / 0.25): a small workload
//! instrumented with the real macros is scraped by a real Prometheus, its spans arrive over OTLP
//! at the trace backend (Jaeger where it can run), and a rule fires and reaches the Alertmanager
//! webhook.
//!
//! A backend that cannot run here is reported as skipped on the terminal; set
//! `ONLY1MCP_TESTKIT_REQUIRE=process,container,jaeger` (as `scripts/test` does for what it set
//! up) to make that a failure instead.

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{ErrorClass, TracingConfig};
use only1mcp_obs_e2e::Exporter;
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::prometheus::Sample;
use only1mcp_obs_testkit::stack::LiveStack;
use only1mcp_obs_testkit::traces::{AttrValue, SpanKind, SpanQuery};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

#[mcp_instrumented(method = "tools/call", target = tool, kind = client, server_id = server)]
fn call_backend(server: &str, tool: &str) -> Result<u32, ErrorClass> {
    if tool == "broken" {
        Err(ErrorClass::JsonRpc(-32603))
    } else {
        Ok(1)
    }
}

fn single(samples: &[Sample]) -> f64 {
    samples.first().map_or(f64::NAN, |s| s.value)
}

fn metrics_and_traces(backend: Backend, generation: Generation) {
    let test = format!("live_metrics_and_traces[{backend}, {}]", generation.short());
    if !backend.announce_for(&test, generation) {
        return;
    }
    let exporter = Exporter::start();
    let stack = LiveStack::builder(backend)
        .generation(generation)
        .scrape(exporter.target())
        .start()
        .expect("live stack");
    assert_eq!(
        stack.prometheus.version().expect("buildinfo"),
        generation.prometheus_version()
    );
    let tag = format!("{backend}-{}", generation.short());
    let mut config = TracingConfig {
        service_name: format!("live-{tag}"),
        ..TracingConfig::default()
    };
    config.exporter.endpoint = Some(stack.traces.grpc_endpoint());
    config.batch.scheduled_delay_ms = 100;
    // This test's pipeline, current on this thread only: live tests run side by side.
    let tracing = only1mcp_obs::trace::build(&config).expect("tracing");
    let runtime = tracing.runtime();
    let _current = runtime.enter();

    let server = format!("e2e-{tag}");
    for _ in 0..7 {
        call_backend(&server, "search").expect("ok");
    }
    for _ in 0..2 {
        assert!(call_backend(&server, "broken").is_err());
    }
    tracing.flush().expect("flush");

    let p = &stack.prometheus;
    let ok = format!(
        r#"only1mcp_mcp_requests_total{{server_id="{server}",method="tools/call",status="success"}}"#
    );
    assert_eq!(
        single(
            &p.eventually(&ok, |s| single(s) == 7.0, DEADLINE)
                .expect("success count")
        ),
        7.0
    );
    let failed = format!(r#"only1mcp_mcp_requests_total{{server_id="{server}",status="error"}}"#);
    assert_eq!(p.value(&failed).expect("query"), Some(2.0));
    let count = r#"mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="search"}"#;
    let errors = r#"mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="-32603",gen_ai_tool_name="broken"}"#;
    let inf = r#"mcp_client_operation_duration_seconds_bucket{mcp_method_name="tools/call",gen_ai_tool_name="search",le="+Inf"}"#;
    // Other tests in this process add to the same families: compare against at least this test's calls.
    assert!(p.value(count).expect("query").is_some_and(|v| v >= 7.0));
    assert!(p.value(errors).expect("query").is_some_and(|v| v >= 2.0));
    assert!(p.value(inf).expect("query") == p.value(count).expect("query"));
    let duration = format!(
        r#"only1mcp_mcp_request_duration_seconds_count{{server_id="{server}",method="tools/call"}}"#
    );
    assert_eq!(p.value(&duration).expect("query"), Some(9.0));
    assert!(
        p.check_expr("sum(rate(only1mcp_mcp_requests_total[5m]))")
            .is_ok()
    );
    let bad = p
        .check_expr("sum(rate(only1mcp_mcp_requests_total[5m])")
        .expect_err("unbalanced parenthesis");
    assert_eq!((bad.status, bad.error_type.as_str()), (400, "bad_data"));

    let service = format!("live-{tag}");
    let spans = stack
        .traces
        .wait_for_count(
            &SpanQuery::name("tools/call search").service(&service),
            7,
            DEADLINE,
        )
        .expect("spans");
    assert!(spans.iter().all(|s| s.kind == SpanKind::Client
        && s.attr("only1mcp.server.id") == Some(&AttrValue::from(server.as_str()))));
    let broken = stack.traces.wait_for_count(
        &SpanQuery::name("tools/call broken")
            .service(&service)
            .attr("error.type", "-32603"),
        2,
        DEADLINE,
    );
    assert!(
        broken
            .expect("error spans")
            .iter()
            .all(|s| s.status_code == 2)
    );
    tracing.shutdown(Duration::from_secs(5)).expect("shutdown");
}

fn rule_fires_and_reaches_the_webhook(backend: Backend, generation: Generation) {
    let test = format!("live_alert[{backend}, {}]", generation.short());
    if !backend.announce_for(&test, generation) {
        return;
    }
    let exporter = Exporter::start();
    let server = format!("e2e-alert-{backend}-{}", generation.short());
    let rules = tempfile_with(&format!(
        "groups:\n  - name: e2e\n    interval: 1s\n    rules:\n      - alert: E2EBackendErrors\n        \
         expr: sum(only1mcp_mcp_requests_total{{server_id=\"{server}\",status=\"error\"}}) > 0\n        \
         labels:\n          severity: critical\n        annotations:\n          summary: backend {server} answers with errors\n"
    ));
    let stack = LiveStack::builder(backend)
        .generation(generation)
        .scrape(exporter.target())
        .rule_file(rules.path())
        .with_alertmanager()
        .start()
        .expect("live stack");
    assert!(call_backend(&server, "broken").is_err());
    let am = stack.alertmanager.as_ref().expect("alertmanager");
    assert_eq!(
        am.version().expect("status"),
        generation.alertmanager_version()
    );
    let alert = am
        .wait_for_alert("E2EBackendErrors", Duration::from_secs(18))
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nrules: {:#?}\nprometheus said:\n{}",
                stack.prometheus.rules(),
                stack.prometheus.output()
            )
        });
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(
        alert["annotations"]["summary"],
        format!("backend {server} answers with errors")
    );
    assert_eq!(alert["status"], "firing");
}

fn tempfile_with(content: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, content.as_bytes()).expect("write");
    file
}

#[test]
fn live_metrics_and_traces_on_processes_prometheus3() {
    metrics_and_traces(Backend::Process, Generation::Current);
}

#[test]
fn live_metrics_and_traces_on_processes_prometheus2() {
    metrics_and_traces(Backend::Process, Generation::Legacy);
}

#[test]
fn live_metrics_and_traces_on_containers_prometheus3() {
    metrics_and_traces(Backend::Container, Generation::Current);
}

#[test]
fn live_metrics_and_traces_on_containers_prometheus2() {
    metrics_and_traces(Backend::Container, Generation::Legacy);
}

#[test]
fn live_alert_on_processes_prometheus3() {
    rule_fires_and_reaches_the_webhook(Backend::Process, Generation::Current);
}

#[test]
fn live_alert_on_processes_prometheus2() {
    rule_fires_and_reaches_the_webhook(Backend::Process, Generation::Legacy);
}

#[test]
fn live_alert_on_containers_prometheus3() {
    rule_fires_and_reaches_the_webhook(Backend::Container, Generation::Current);
}

#[test]
fn live_alert_on_containers_prometheus2() {
    rule_fires_and_reaches_the_webhook(Backend::Container, Generation::Legacy);
}

#[test]
fn a_metric_that_never_appears_is_reported_with_what_was_scraped() {
    if !Backend::Process.announce("live_failure_message[process]") {
        return;
    }
    let exporter = Exporter::start();
    let stack = LiveStack::builder(Backend::Process)
        .scrape(exporter.target())
        .start()
        .expect("live stack");
    let p = &stack.prometheus;
    p.eventually("up", |s| single(s) == 1.0, DEADLINE)
        .expect("first scrape");
    let message = p
        .eventually(
            "only1mcp_no_such_metric_total",
            |s| !s.is_empty(),
            Duration::from_millis(500),
        )
        .expect_err("absent");
    assert!(message.awaited.contains("only1mcp_no_such_metric_total"));
    let message = message.to_string();
    assert!(message.contains("last result:\n  no data"), "{message}");
    assert!(
        message.contains(&format!("http://{}/metrics up", exporter.target())),
        "{message}"
    );
    assert!(
        message.contains("only1mcp_obs_label_overflow_total"),
        "lists what was scraped: {message}"
    );
}
