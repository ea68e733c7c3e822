//! The README's main job, end to end: a real MCP client (rmcp) calls through the aggregator to
//! its backends. One trace spans client -> aggregator -> backend in the trace backend, the
//! metrics are in a live Prometheus, the audit lines carry the same trace id, and readiness
//! turns 503 when a backend is killed and 200 when it returns.

use only1mcp_obs::integrations::rmcp::inject;
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::TracingConfig;
use only1mcp_obs_e2e::mcp_http::Aggregator;
use only1mcp_obs_e2e::{ChildGuard, workspace_binary};
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::prometheus::{Prometheus, PrometheusConfig};
use only1mcp_obs_testkit::traces::{AttrValue, SpanKind, SpanQuery, TraceBackend};
use only1mcp_obs_testkit::{http, poll};
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceError, ServiceExt};
use std::process::{Command, Stdio};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

type Client = RunningService<RoleClient, ClientConfig>;

#[mcp_instrumented(method = "tools/call", target = name, kind = client, server_id = "aggregator")]
async fn call(client: &Client, name: &str, text: &str) -> Result<CallToolResponse, ServiceError> {
    let mut request = CallToolRequestParams::new(name.to_owned()).with_arguments(
        serde_json::json!({ "text": text })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    inject(&mut request.meta);
    client.peer().call_tool_once(request).await
}

/// A real MCP client (rmcp) connected to the aggregator.
async fn connect(mcp: &str) -> Client {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("e2e-client", "1.0"),
    )
    .serve(StreamableHttpClientTransport::from_uri(mcp.to_owned()))
    .await
    .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_through_the_aggregator_metrics_audit_and_health() {
    let receiver = tokio::task::spawn_blocking(|| TraceBackend::start(Backend::from_env()))
        .await
        .expect("join")
        .expect("trace backend");
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let otlp = receiver.grpc_endpoint();
    let aggregator = Aggregator::start(
        &["--audit", audit.to_str().expect("path")],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp),
            ("OTEL_SERVICE_NAME", "only1mcp-aggregator"),
        ],
    );
    let printed = &aggregator.printed;
    let mcp = printed.get("mcp").expect("mcp url").clone();
    // `backend files: http://127.0.0.1:PORT pid PID`
    let files = printed.get("backend files").expect("backend line").clone();
    let (files_url, pid) = files.split_once(" pid ").expect("url and pid");
    let files_port: i64 = files_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("backend port");
    let base = mcp.trim_end_matches("/mcp").to_owned();
    let target = base.trim_start_matches("http://").to_owned();
    let prometheus = tokio::task::spawn_blocking(move || {
        Prometheus::start(
            Backend::from_env(),
            PrometheusConfig::default().scrape(target),
        )
    })
    .await
    .expect("join")
    .expect("prometheus");

    let mut config = TracingConfig {
        service_name: "e2e-mcp-client".into(),
        ..TracingConfig::default()
    };
    config.exporter.endpoint = Some(receiver.grpc_endpoint());
    config.batch.scheduled_delay_ms = 100;
    let tracing = only1mcp_obs::trace::install(&config).expect("tracing");

    let client = connect(&mcp).await;
    for i in 0..3 {
        call(&client, "files_echo", &format!("call {i}"))
            .await
            .expect("echo");
    }
    assert!(call(&client, "files_fail", "no").await.is_err());
    client.cancel().await.expect("close");
    tokio::task::spawn_blocking(move || tracing.shutdown(Duration::from_secs(5)))
        .await
        .expect("join")
        .expect("flush");

    // One trace: test client -> aggregator (server) -> aggregator (client) -> backend (server).
    let r = &receiver;
    let first = r
        .wait_for(
            &SpanQuery::name("tools/call files_echo").service("e2e-mcp-client"),
            DEADLINE,
        )
        .expect("client span");
    let trace = r
        .wait_for_trace(&first.trace_id, 4, DEADLINE)
        .unwrap_or_else(|e| panic!("trace {} incomplete: {e}", first.trace_id));
    let find = |service: &str, kind: SpanKind| {
        trace
            .spans()
            .iter()
            .find(|s| s.service() == Some(service) && s.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} span of {service}:\n{trace}"))
    };
    let aggregator_in = find("only1mcp-aggregator", SpanKind::Server);
    let aggregator_out = find("only1mcp-aggregator", SpanKind::Client);
    let backend = find("only1mcp-backend-files", SpanKind::Server);
    assert_eq!(
        aggregator_in.parent_span_id.as_deref(),
        Some(first.span_id.as_str())
    );
    assert_eq!(
        aggregator_out.parent_span_id.as_deref(),
        Some(aggregator_in.span_id.as_str())
    );
    assert_eq!(
        backend.parent_span_id.as_deref(),
        Some(aggregator_out.span_id.as_str())
    );
    // The whole chain, as the trace tree sees it: root first, every hop one level deeper.
    let chain: Vec<_> = trace
        .path(backend)
        .iter()
        .map(|s| (s.service().unwrap_or("?"), s.kind))
        .collect();
    assert_eq!(
        chain,
        [
            ("e2e-mcp-client", SpanKind::Client),
            ("only1mcp-aggregator", SpanKind::Server),
            ("only1mcp-aggregator", SpanKind::Client),
            ("only1mcp-backend-files", SpanKind::Server),
        ],
        "{trace}"
    );
    assert_eq!(trace.roots().len(), 1, "{trace}");
    // Semantic-convention attributes of the received call, recorded with quoted field names.
    for key in [
        "jsonrpc.request.id",
        "mcp.session.id",
        "mcp.protocol.version",
    ] {
        assert!(
            aggregator_in
                .attr(key)
                .and_then(|v| v.as_str())
                .is_some_and(|v| !v.is_empty()),
            "{key}: {aggregator_in:#?}"
        );
    }
    assert_eq!(
        aggregator_in
            .attr("network.transport")
            .and_then(|v| v.as_str()),
        Some("tcp")
    );
    // Where each call went and came from: the peer of the connection and the backend's URL.
    assert_eq!(
        aggregator_in
            .attr("client.address")
            .and_then(|v| v.as_str()),
        Some("127.0.0.1")
    );
    assert!(
        matches!(aggregator_in.attr("client.port"), Some(AttrValue::Int(p)) if *p > 0),
        "{aggregator_in:#?}"
    );
    assert_eq!(
        aggregator_out
            .attr("server.address")
            .and_then(|v| v.as_str()),
        Some("127.0.0.1")
    );
    assert_eq!(
        aggregator_out.attr("server.port"),
        Some(&AttrValue::Int(files_port))
    );
    // Each hop says the protocol version it used: client <-> aggregator, aggregator <-> backend.
    for span in [aggregator_in, aggregator_out] {
        let version = span.attr("mcp.protocol.version").and_then(|v| v.as_str());
        assert!(
            version.is_some_and(|v| v.len() == 10 && v.starts_with("20")),
            "{span:#?}"
        );
    }
    for span in [aggregator_in, aggregator_out, backend] {
        assert_eq!(span.name, "tools/call files_echo");
        assert!(
            !format!("{span:?}").contains("call 0"),
            "tool arguments are not recorded"
        );
    }

    // Metrics of the aggregator process, in live Prometheus.
    let p = &prometheus;
    let ok =
        r#"only1mcp_mcp_requests_total{server_id="files",method="tools/call",status="success"}"#;
    let ok = p
        .eventually(ok, |s| s.first().is_some_and(|s| s.value == 3.0), DEADLINE)
        .expect("3 successful calls to the backend");
    assert_eq!(ok.len(), 1);
    let failed =
        r#"only1mcp_mcp_requests_total{server_id="files",method="tools/call",status="error"}"#;
    assert_eq!(p.value(failed).expect("query"), Some(1.0));
    let server = r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="files_echo"}"#;
    assert_eq!(p.value(server).expect("query"), Some(3.0));
    let health = p
        .eventually(
            r#"only1mcp_backend_health_status{server_id="files"}"#,
            |s| !s.is_empty(),
            DEADLINE,
        )
        .expect("health");
    assert_eq!(health[0].value, 1.0);

    // Audit lines with the trace id of the same trace.
    let records = only1mcp_obs::audit::read(&audit).expect("audit").records;
    let tools: Vec<_> = records
        .iter()
        .filter(|r| r.action == "tool_invocation")
        .collect();
    assert_eq!(tools.len(), 4, "{records:#?}");
    assert!(
        tools
            .iter()
            .any(|r| r.trace_id.as_deref() == Some(first.trace_id.as_str())
                && r.outcome == "success")
    );
    assert!(
        tools
            .iter()
            .any(|r| r.details["tool"] == "files_fail" && r.outcome == "failure")
    );
    assert!(tools.iter().all(|r| r.actor == "e2e-client"));

    // The SLA summary, read back from the same Prometheus once rates have data: more traffic,
    // a quarter of it failing, while Prometheus scrapes.
    let client = connect(&mcp).await;
    let mut sla = None;
    let deadline = std::time::Instant::now() + DEADLINE;
    while std::time::Instant::now() < deadline {
        for i in 0..3 {
            let _ = call(
                &client,
                "search_echo",
                &format!("sla {i} {:?}", std::time::Instant::now()),
            )
            .await;
        }
        let _ = call(&client, "search_fail", "sla").await;
        let summary = only1mcp_obs::business::sla_summary(p.url())
            .await
            .expect("sla summary");
        if summary.error_rate_5m.is_finite() && summary.error_rate_5m > 0.0 {
            sla = Some(summary);
            break;
        }
        // Paces the traffic between polls of the summary (the loop has a deadline).
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.cancel().await.expect("close");
    let sla = sla.expect("the SLA summary never saw traffic");
    assert!(
        sla.error_rate_5m < 1.0 && sla.availability_24h > 0.0 && sla.availability_24h < 1.0,
        "{sla:?}"
    );
    assert!(sla.p99_latency_5m.is_finite(), "{sla:?}");

    // Readiness: kill the files backend, then bring one back on the same address.
    let ready = format!("{base}/health/ready");
    let status = |url: &str| http::get(url).map(|r| r.status).unwrap_or(0);
    assert_eq!(status(&ready), 200);
    let report: serde_json::Value =
        serde_json::from_str(&http::get(&ready).expect("ready").body).expect("json");
    for check in ["config", "backends", "cache"] {
        assert_eq!(report["checks"][check]["status"], "ok", "{report}");
    }
    Command::new("kill")
        .args(["-9", pid])
        .status()
        .expect("kill");
    let down = poll(DEADLINE, || (status(&ready) == 503).then_some(()));
    assert!(down.is_ok(), "readiness stayed up after the backend died");
    let body = http::get(&ready).expect("ready").body;
    assert!(body.contains("unreachable: files"), "{body}");
    let listen = files_url.trim_start_matches("http://");
    let _restarted = ChildGuard(
        Command::new(workspace_binary(
            "only1mcp-aggregator",
            "only1mcp-aggregator",
        ))
        .args(["--backend", "files", "--listen", listen])
        .stdout(Stdio::null())
        .spawn()
        .expect("restart backend"),
    );
    let up = poll(DEADLINE, || (status(&ready) == 200).then_some(()));
    assert!(
        up.is_ok(),
        "readiness did not recover: {}",
        http::get(&ready).map(|r| r.body).unwrap_or_default()
    );
}
