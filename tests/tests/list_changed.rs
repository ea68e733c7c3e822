//! A backend's list change reaches the clients through the aggregator: a Python SDK server
//! behind it (over stdio) adds a tool during a call and says so; the official Python SDK client
//! hears it, as `notifications/tools/list_changed` in protocol 2025-11-25 and on a
//! `subscriptions/listen` stream in 2026-07-28, and the new tool is listed (and callable) at once.

use only1mcp_obs_e2e::peers;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn tool_list_change_reaches_the_client(mode: &str, protocol: &str, announced: &str) {
    let Some(got) =
        peers::python_client_through_python_server("listen.py", &[mode, "py_grow"], DEADLINE)
    else {
        return;
    };
    println!("{mode}: {got}");
    assert_eq!(got["protocolVersion"], protocol, "{got}");
    let names = |key: &str| -> Vec<String> {
        got[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(names("before").contains(&"py_grow".to_owned()), "{got}");
    assert!(!names("before").contains(&"py_grown".to_owned()), "{got}");
    assert!(names("after").contains(&"py_grown".to_owned()), "{got}");
    assert!(
        names("announced").iter().any(|a| a.contains(announced)),
        "{got}"
    );
}

#[test]
fn a_backends_tool_list_change_reaches_a_2025_11_25_session() {
    tool_list_change_reaches_the_client("legacy", "2025-11-25", "ToolListChanged");
}

#[test]
fn a_backends_tool_list_change_reaches_a_2026_07_28_listen_stream() {
    tool_list_change_reaches_the_client("2026-07-28", "2026-07-28", "ToolsListChanged");
}

/// A list change names no call, so the aggregator traces it in the trace of the one call in
/// flight on that backend, the call most likely to have caused it: the span that relays the
/// Python server's `notifications/tools/list_changed`, sent while `py_grow` runs, is a child of
/// the aggregator's span of that call to the backend (`tools/call grow`, the backend's name).
#[test]
fn a_list_change_during_the_only_call_in_flight_is_traced_in_that_call() {
    use only1mcp_obs_testkit::backend::Backend;
    use only1mcp_obs_testkit::traces::{SpanKind, SpanQuery, TraceBackend};
    use std::process::Command;

    let Some(python) = peers::python() else {
        return;
    };
    let traces = TraceBackend::start(Backend::from_env()).expect("trace backend");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = peers::python_server_config(dir.path(), &python, &[]);
    let aggregator = peers::Aggregator::start(dir.path(), |command| {
        command
            .arg("--config")
            .arg(&config)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", traces.grpc_endpoint())
            .env("OTEL_SERVICE_NAME", "only1mcp-aggregator");
    });
    let got = peers::run_json(
        Command::new(&python)
            .arg(peers::dir().join("python/listen.py"))
            .args([aggregator.mcp.as_str(), "legacy", "py_grow"]),
        DEADLINE,
    );
    assert_eq!(got["protocolVersion"], "2025-11-25", "{got}");
    let call = traces
        .wait_for(
            // The backend's own name of the tool.
            &SpanQuery::name("tools/call grow")
                .service("only1mcp-aggregator")
                .kind(SpanKind::Client),
            DEADLINE,
        )
        .expect("the aggregator's span of the call to the backend");
    let change = traces
        .wait_for(
            &SpanQuery::name("notifications/tools/list_changed")
                .service("only1mcp-aggregator")
                .trace(&call.trace_id),
            DEADLINE,
        )
        .unwrap_or_else(|e| {
            panic!(
                "no list change span in the call's trace {}: {e}",
                call.trace_id
            )
        });
    assert_eq!(
        change.parent_span_id.as_deref(),
        Some(call.span_id.as_str()),
        "{change:#?}"
    );
}
