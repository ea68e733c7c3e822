//! A trace started by the official Python SDK's client continues through the aggregator: the
//! SDK's own OpenTelemetry instrumentation makes the client span and sends its context in
//! `params._meta`; the aggregator's server span is that span's child, in the same trace, and
//! the trace has one root, the Python client's span. Both sides name a failed call's error the
//! same way (`error.type`). Both protocol generations.
//!
//! With a Python SDK server behind the aggregator (over stdio), one trace crosses three
//! implementations: Python client -> aggregator server -> aggregator client -> Python server,
//! and our spans carry every attribute name the Python SDK puts on its span of the same
//! operation.

use only1mcp_obs_e2e::peers::{self, Aggregator};
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::traces::{
    AttrValue, ReceivedSpan, SpanKind, SpanQuery, TraceBackend, TraceTree,
};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

/// The Python client's span of a call of `tool` and the aggregator's server span of it, which
/// must be in the same trace, the client's span its parent.
fn hop(traces: &TraceBackend, tool: &str) -> (ReceivedSpan, ReceivedSpan) {
    let client = traces
        .wait_for(
            &SpanQuery::name(&format!("MCP send tools/call {tool}"))
                .service("python-mcp-client")
                .kind(SpanKind::Client),
            DEADLINE,
        )
        .unwrap_or_else(|e| panic!("the Python SDK's client span of {tool}: {e}"));
    let server = traces
        .wait_for(
            &SpanQuery::name(&format!("tools/call {tool}"))
                .service("only1mcp-aggregator")
                .kind(SpanKind::Server)
                .trace(&client.trace_id),
            DEADLINE,
        )
        .unwrap_or_else(|e| {
            let seen: Vec<String> = traces
                .spans()
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    let service = s.service().unwrap_or("?");
                    format!("{service} {:?} {} trace {}", s.kind, s.name, s.trace_id)
                })
                .collect();
            panic!(
                "no aggregator server span of {tool} in the client's trace {}: {e}\nspans seen:\n  {}",
                client.trace_id,
                seen.join("\n  ")
            )
        });
    // What each side records, for comparing the two implementations of the conventions.
    for span in [&client, &server] {
        println!(
            "{} {:?} {:?}: {:?}",
            span.service().unwrap_or("?"),
            span.kind,
            span.name,
            span.attributes
        );
    }
    assert_eq!(client.parent_span_id, None, "{client:#?}");
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str()),
        "{server:#?}"
    );
    (client, server)
}

/// The trace of `client`'s call, once its four spans are in: its one root is `client`.
fn four_spans_one_root(traces: &TraceBackend, client: &ReceivedSpan) -> TraceTree {
    let tree = traces
        .wait_for_trace(&client.trace_id, 4, DEADLINE)
        .unwrap_or_else(|e| panic!("trace {} incomplete: {e}", client.trace_id));
    println!("{tree}");
    let roots: Vec<&str> = tree.roots().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(roots, [client.name.as_str()], "{tree}");
    tree
}

fn error_type(span: &ReceivedSpan) -> Option<&str> {
    span.attr("error.type").and_then(AttrValue::as_str)
}

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
    assert_eq!(result["flakyIsError"], true, "{result}");
    assert_eq!(result["failCode"], -32602, "{result}");

    // Client -> aggregator (server) -> aggregator (client) -> backend (server), one root.
    let (client, _) = hop(&traces, "files_echo");
    four_spans_one_root(&traces, &client);

    // A JSON-RPC error: its code on both sides.
    let (client, server) = hop(&traces, "files_fail");
    assert_eq!(error_type(&client), Some("-32602"), "{client:#?}");
    assert_eq!(error_type(&server), Some("-32602"), "{server:#?}");
    // A tool error: the server side says so (the Python client records none).
    let (_, server) = hop(&traces, "files_flaky");
    assert_eq!(error_type(&server), Some("tool_error"), "{server:#?}");
}

#[test]
fn python_sdk_trace_continues_through_the_aggregator_2025_11_25() {
    trace_continues("legacy", "2025-11-25");
}

#[test]
fn python_sdk_trace_continues_through_the_aggregator_2026_07_28() {
    trace_continues("2026-07-28", "2026-07-28");
}

fn names(span: &ReceivedSpan) -> std::collections::BTreeSet<&str> {
    span.attributes.keys().map(String::as_str).collect()
}

/// Every attribute name on `theirs` (the Python SDK's span of the same operation) is on `ours`
/// too; the names only ours has are printed.
fn same_names(ours: &ReceivedSpan, theirs: &ReceivedSpan) {
    let (ours_names, theirs_names) = (names(ours), names(theirs));
    let missing: Vec<&str> = theirs_names.difference(&ours_names).copied().collect();
    let extra: Vec<&str> = ours_names.difference(&theirs_names).copied().collect();
    println!(
        "{:?} {:?} vs Python {:?}: ours only {extra:?}",
        ours.kind, ours.name, theirs.name
    );
    assert!(
        missing.is_empty(),
        "the Python SDK's {:?} has {missing:?}, ours ({:?}) does not:\n{theirs:#?}\n{ours:#?}",
        theirs.name,
        ours.name
    );
}

fn trace_crosses_three_implementations(mode: &str, protocol: &str) {
    let Some(python) = peers::python() else {
        return;
    };
    let traces = TraceBackend::start(Backend::from_env()).expect("trace backend");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = peers::python_server_config(dir.path(), &python, &[traces.http_endpoint()]);
    let aggregator = Aggregator::start(dir.path(), |command| {
        command
            .arg("--config")
            .arg(&config)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", traces.grpc_endpoint())
            .env("OTEL_SERVICE_NAME", "only1mcp-aggregator");
    });
    let result = peers::run_json(
        Command::new(&python)
            .arg(peers::dir().join("python/traced.py"))
            .args([&aggregator.mcp, mode, &traces.http_endpoint(), "py_"]),
        Duration::from_secs(60),
    );
    assert_eq!(result["protocolVersion"], protocol, "{result}");
    assert_eq!(result["text"], "python: traced", "{result}");
    assert_eq!(result["flakyIsError"], true, "{result}");
    assert_eq!(result["failCode"], -32602, "{result}");

    for tool in ["echo", "flaky", "fail"] {
        let (client, server) = hop(&traces, &format!("py_{tool}"));
        // Python client -> aggregator server -> aggregator client -> Python server: one root.
        let tree = four_spans_one_root(&traces, &client);
        let outbound = tree.children(&server);
        let [outbound] = outbound.as_slice() else {
            panic!("one aggregator client span under the server span:\n{tree}")
        };
        assert_eq!(outbound.kind, SpanKind::Client, "{tree}");
        assert_eq!(outbound.service(), Some("only1mcp-aggregator"), "{tree}");
        let backend = tree.children(outbound);
        let [backend] = backend.as_slice() else {
            panic!("one Python server span under the aggregator's client span:\n{tree}")
        };
        assert_eq!(backend.service(), Some("python-mcp-server"), "{tree}");
        assert_eq!(backend.kind, SpanKind::Server, "{tree}");
        assert_eq!(backend.name, format!("tools/call {tool}"), "{tree}");
        assert_eq!(tree.spans().len(), 4, "{tree}");
        // Each hop records the protocol version it used.
        for span in [&server, *outbound, *backend] {
            assert!(span.attr("mcp.protocol.version").is_some(), "{span:#?}");
        }
        // The same operation, the same attribute names as the Python SDK's.
        same_names(&server, backend);
        same_names(outbound, &client);
        // Errors are named alike on every hop.
        let expected = match tool {
            "echo" => None,
            "flaky" => Some("tool_error"),
            _ => Some("-32602"),
        };
        assert_eq!(error_type(backend), expected, "{backend:#?}");
        assert_eq!(error_type(&server), expected, "{server:#?}");
    }
}

#[test]
fn one_trace_crosses_a_python_client_the_aggregator_and_a_python_server_2025_11_25() {
    trace_crosses_three_implementations("legacy", "2025-11-25");
}

#[test]
fn one_trace_crosses_a_python_client_the_aggregator_and_a_python_server_2026_07_28() {
    trace_crosses_three_implementations("2026-07-28", "2026-07-28");
}
