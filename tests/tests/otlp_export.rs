//! Spans from `#[mcp_instrumented]` over a real OTLP connection (gRPC and HTTP/protobuf) to each
//! trace backend of the testkit on 127.0.0.1 (the in-process receiver; Jaeger v2 as a process
//! and as a container), checked with the same queries; and a collector that is down or silent
//! never holds up calls.

use only1mcp_obs::log::{LogFormat, Redactor, writer_layer};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::metrics::encode_text;
use only1mcp_obs::propagation::inject_current_meta;
use only1mcp_obs::trace::{ErrorClass, OtlpProtocol, TracingConfig};
use only1mcp_obs_testkit::backend::{Backend, required};
use only1mcp_obs_testkit::traces::{
    AttrValue, Jaeger, OtlpReceiver, SpanKind, SpanQuery, TraceBackend,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

#[mcp_instrumented(method = "tools/call", target = name, parent = &params)]
fn backend_tool(name: &str, params: serde_json::Value) -> Result<String, ErrorClass> {
    tracing::info!("backend handling the call");
    if name == "broken" {
        Err(ErrorClass::JsonRpc(-32603))
    } else {
        Ok(format!("{name}: done"))
    }
}

#[mcp_instrumented(method = "tools/call", target = name, kind = client, server_id = "backend-a", fields(attempt = 1u32))]
fn aggregator_call(name: &str, secret_arguments: &str) -> Result<String, ErrorClass> {
    let mut params = json!({ "name": name, "arguments": { "q": secret_arguments } });
    inject_current_meta(&mut params);
    backend_tool(name, params)
}

fn config(protocol: OtlpProtocol, endpoint: String) -> TracingConfig {
    let mut config = TracingConfig {
        service_name: "otlp-e2e".to_owned(),
        environment: "test".to_owned(),
        ..TracingConfig::default()
    };
    config.exporter.endpoint = Some(endpoint);
    config.exporter.protocol = protocol;
    config.exporter.timeout_seconds = 2.0;
    config.batch.scheduled_delay_ms = 50;
    config
}

#[test]
fn spans_arrive_at_the_receiver_over_grpc_and_http_with_semconv_attributes() {
    spans_arrive(|| OtlpReceiver::start().expect("receiver").into());
}

/// Jaeger on `backend`, or `None` (said on the terminal) when it cannot run there and
/// `ONLY1MCP_TESTKIT_REQUIRE` does not list `jaeger`.
fn jaeger_on(backend: Backend, test: &str) -> Option<impl Fn() -> TraceBackend> {
    if let Some(why) = Jaeger::unavailable(backend) {
        assert!(
            !required("jaeger"),
            "[{test}] Jaeger is required here but cannot run on the {backend} backend: {why}"
        );
        // On the terminal, not in captured output: a skip must be visible.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "[{test}] SKIPPED: {why}");
        return None;
    }
    Some(move || Jaeger::start(backend).expect("jaeger").into())
}

#[test]
fn spans_arrive_at_jaeger_as_a_process_over_grpc_and_http_with_semconv_attributes() {
    if let Some(start) = jaeger_on(Backend::Process, "spans_arrive_at_jaeger[process]") {
        spans_arrive(start);
    }
}

#[test]
fn spans_arrive_at_jaeger_in_a_container_over_grpc_and_http_with_semconv_attributes() {
    if let Some(start) = jaeger_on(Backend::Container, "spans_arrive_at_jaeger[container]") {
        spans_arrive(start);
    }
}

/// Calls through two instrumented functions, exports over gRPC and then HTTP/protobuf to a
/// fresh trace backend each time, and checks what the backend holds.
fn spans_arrive(start: impl Fn() -> TraceBackend) {
    for protocol in [OtlpProtocol::Grpc, OtlpProtocol::HttpProtobuf] {
        let receiver = start();
        let endpoint = match protocol {
            OtlpProtocol::Grpc => receiver.grpc_endpoint(),
            OtlpProtocol::HttpProtobuf => receiver.http_endpoint(),
        };
        // This test's pipeline, current on this thread only: the tests run side by side.
        let tracing = only1mcp_obs::trace::build(&config(protocol, endpoint)).expect("build");
        let runtime = tracing.runtime();
        let _current = runtime.enter();
        let logs = only1mcp_obs_testkit::capture::LogCapture::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::registry().with(writer_layer(
            LogFormat::Json,
            Arc::new(Redactor::default()),
            move || writer.clone(),
            tracing_subscriber::EnvFilter::new("info"),
        ));
        tracing::subscriber::with_default(subscriber, || {
            aggregator_call("search", "hunter2").expect("ok");
            assert!(aggregator_call("broken", "hunter2").is_err());
        });
        tracing.flush().expect("flush");
        // Jaeger does not say how a span arrived; the receiver does.
        let wanted = match (receiver.receiver(), protocol) {
            (None, _) => "jaeger",
            (Some(_), OtlpProtocol::Grpc) => "grpc",
            (Some(_), OtlpProtocol::HttpProtobuf) => "http",
        };

        let both = receiver
            .wait_for_count(
                &SpanQuery::name("tools/call search").service("otlp-e2e"),
                2,
                Duration::from_secs(10),
            )
            .expect("spans");
        let client = both
            .iter()
            .find(|s| s.kind == SpanKind::Client)
            .expect("client span");
        let server = both
            .iter()
            .find(|s| s.kind == SpanKind::Server)
            .expect("server span");
        assert_eq!(client.transport, wanted);
        assert_eq!(server.trace_id, client.trace_id);
        assert_eq!(
            server.parent_span_id.as_deref(),
            Some(client.span_id.as_str())
        );
        assert_eq!(client.parent_span_id, None);
        // The same relation through the query API and the trace tree.
        let child = receiver
            .wait_for(
                &SpanQuery::name("tools/call search")
                    .kind(SpanKind::Server)
                    .child_of(&client.span_id),
                Duration::from_secs(10),
            )
            .expect("child span");
        assert_eq!(child.span_id, server.span_id);
        let tree = receiver
            .wait_for_trace(&client.trace_id, 2, Duration::from_secs(10))
            .expect("trace");
        assert_eq!(tree.len(), 2, "{tree}");
        assert_eq!(tree.roots(), [client], "{tree}");
        assert_eq!(tree.children(client), [server], "{tree}");
        assert_eq!(
            client.attr("mcp.method.name"),
            Some(&AttrValue::from("tools/call"))
        );
        assert_eq!(
            client.attr("gen_ai.tool.name"),
            Some(&AttrValue::from("search"))
        );
        assert_eq!(
            client.attr("gen_ai.operation.name"),
            Some(&AttrValue::from("execute_tool"))
        );
        assert_eq!(
            client.attr("only1mcp.server.id"),
            Some(&AttrValue::from("backend-a"))
        );
        assert_eq!(
            client.attr("attempt"),
            Some(&AttrValue::Int(1)),
            "typed attribute values survive"
        );
        assert_eq!(
            client.resource.get("deployment.environment"),
            Some(&AttrValue::from("test"))
        );
        assert_eq!(
            client.resource.get("service.namespace"),
            Some(&AttrValue::from("mcp-aggregator"))
        );
        assert!(client.resource.contains_key("service.version"));
        for span in receiver.spans().expect("spans") {
            assert!(
                !format!("{span:?}").contains("hunter2"),
                "arguments are not recorded: {span:?}"
            );
        }

        let broken = receiver.wait_for(
            &SpanQuery::name("tools/call broken").attr("error.type", "-32603"),
            Duration::from_secs(10),
        );
        let broken = broken.expect("failed call");
        assert_eq!(broken.status_code, 2, "status Error");

        // Log lines carry the trace id of the exported spans.
        let text = logs.text();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        let body_line = lines
            .iter()
            .find(|l| {
                l["message"] == "backend handling the call"
                    && l["trace_id"] == server.trace_id.as_str()
            })
            .unwrap_or_else(|| panic!("no body line in trace {}: {text}", server.trace_id));
        assert_eq!(body_line["span_id"], server.span_id.as_str());
        assert!(
            lines.iter().any(|l| l["message"] == "MCP operation failed"
                && l["trace_id"] == broken.trace_id.as_str())
        );

        tracing.shutdown(Duration::from_secs(5)).expect("shutdown");
    }
}

fn dropped(reason: &str) -> f64 {
    let key = format!("only1mcp_obs_spans_dropped_total{{reason=\"{reason}\"}} ");
    encode_text()
        .lines()
        .find_map(|l| l.strip_prefix(key.as_str())?.parse().ok())
        .unwrap_or(0.0)
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// Runs many instrumented calls against an unusable collector: they all complete, the spans that
/// do not fit the queue are dropped and counted, and memory stays bounded.
fn calls_survive(endpoint: String, expect_reason: &str) {
    let mut config = config(OtlpProtocol::Grpc, endpoint);
    config.batch.max_queue_size = 1024;
    config.batch.max_export_batch_size = 256;
    config.exporter.timeout_seconds = 0.5;
    let tracing = only1mcp_obs::trace::build(&config).expect("build");
    let runtime = tracing.runtime();
    let _current = runtime.enter();
    let before_drops = dropped("queue_full") + dropped(expect_reason);
    let warm = resident_bytes();
    let calls = 50_000;
    for i in 0..calls {
        let name = if i % 2 == 0 { "search" } else { "fetch" };
        assert!(aggregator_call(name, "x").is_ok());
    }
    let grown = resident_bytes().saturating_sub(warm);
    let lost = dropped("queue_full") + dropped(expect_reason) - before_drops;
    // 100k spans were made (client + server per call); at most a queue and a batch in flight
    // were kept, so nearly all were dropped and counted rather than buffered.
    assert!(
        lost >= (2 * calls - 1024 - 2 * 256) as f64 * 0.9,
        "dropped {lost} of {} spans",
        2 * calls
    );
    assert!(
        grown < 64 * 1024 * 1024,
        "resident memory grew by {grown} bytes"
    );
    // Shutdown gives up after its timeout instead of hanging on the collector.
    let _ = tracing.shutdown(Duration::from_secs(2));
}

#[test]
fn a_closed_port_never_holds_up_calls() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    calls_survive(format!("http://127.0.0.1:{port}"), "export_failed");
}

#[test]
fn a_collector_that_never_answers_never_holds_up_calls() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    // Accept connections and never read or answer.
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().expect("held").push(stream);
        }
    });
    calls_survive(endpoint, "export_timeout");
}
