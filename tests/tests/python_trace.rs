//! A trace started by the official Python SDK's client continues through the aggregator: the
//! SDK's own OpenTelemetry instrumentation makes the client span and sends its context in
//! `params._meta`; the aggregator's server span is that span's child, in the same trace, and
//! the trace has one root, the Python client's span. Both protocol generations.

use only1mcp_obs_e2e::peers::{self, Aggregator};
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::traces::{SpanKind, SpanQuery, TraceBackend};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

fn trace_continues(mode: &str, protocol: &str) {
    let Some(python) = peers::python() else {
        return;
    };
    let traces = TraceBackend::start(Backend::from_env()).expect("trace backend");
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = Aggregator::start(dir.path(), |command| {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", traces.grpc_endpoint())
            .env("OTEL_SERVICE_NAME", "only1mcp-aggregator");
    });
    let result = peers::run_json(
        Command::new(&python)
            .arg(peers::dir().join("python/traced.py"))
            .args([&aggregator.mcp, mode, &traces.http_endpoint()]),
        Duration::from_secs(60),
    );
    assert_eq!(result["protocolVersion"], protocol, "{result}");
    assert_eq!(result["text"], "files: traced", "{result}");

    let client = traces
        .wait_for(
            &SpanQuery::name("MCP send tools/call files_echo")
                .service("python-mcp-client")
                .kind(SpanKind::Client),
            DEADLINE,
        )
        .expect("the Python SDK's client span");
    let server = traces
        .wait_for(
            &SpanQuery::name("tools/call files_echo")
                .service("only1mcp-aggregator")
                .kind(SpanKind::Server)
                .trace(&client.trace_id),
            DEADLINE,
        )
        .unwrap_or_else(|e| {
            let spans = traces.spans().unwrap_or_default();
            let seen: Vec<String> = spans
                .iter()
                .map(|s| {
                    let service = s.service().unwrap_or("?");
                    format!("{service} {:?} {} trace {}", s.kind, s.name, s.trace_id)
                })
                .collect();
            panic!(
                "no aggregator server span in the client's trace {}: {e}\nspans seen:\n  {}",
                client.trace_id,
                seen.join("\n  ")
            )
        });
    // Client -> aggregator (server) -> aggregator (client) -> backend (server).
    let tree = traces
        .wait_for_trace(&client.trace_id, 4, DEADLINE)
        .unwrap_or_else(|e| panic!("trace {} incomplete: {e}", client.trace_id));
    println!("{tree}");
    // What each side records, for comparing the two implementations of the conventions.
    println!(
        "Python SDK client span {:?}: {:?}",
        client.name,
        client.attributes.keys().collect::<Vec<_>>()
    );
    println!(
        "aggregator server span {:?}: {:?}",
        server.name,
        server.attributes.keys().collect::<Vec<_>>()
    );
    assert_eq!(client.parent_span_id, None, "{tree}");
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str()),
        "{tree}"
    );
    let roots: Vec<&str> = tree.roots().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(roots, [client.name.as_str()], "{tree}");
}

#[test]
fn python_sdk_trace_continues_through_the_aggregator_2025_11_25() {
    trace_continues("legacy", "2025-11-25");
}

#[test]
fn python_sdk_trace_continues_through_the_aggregator_2026_07_28() {
    trace_continues("2026-07-28", "2026-07-28");
}
