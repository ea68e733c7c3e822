//! `#[mcp_instrumented]` with the SDK's in-memory exporter: span names, kinds and attributes,
//! parent and child across a client -> server hop carried in `params._meta`, error
//! classification, arguments absent by default, metrics, and JSON log lines with trace ids.

mod common;

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::metrics::encode_text;
use only1mcp_obs::propagation::inject_current_meta;
use only1mcp_obs::runtime::Entered;
use only1mcp_obs::trace::{ClassifyError, ErrorClass};
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;

/// A tracer of the test's own, current on its thread: tests run side by side.
struct Harness {
    exporter: InMemorySpanExporter,
    _provider: SdkTracerProvider,
    _current: Entered,
}

impl Harness {
    fn new() -> Self {
        let (exporter, provider, current) = common::in_memory();
        Harness {
            exporter,
            _provider: provider,
            _current: current,
        }
    }

    fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("in-memory spans")
    }

    fn span(&self, name: &str) -> SpanData {
        let spans = self.spans();
        spans
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "no span named {name:?}; got {:?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
    }
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn series(page: &str, prefix: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(prefix)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[derive(Debug)]
enum BackendError {
    Rpc(i64),
    Slow,
}

impl ClassifyError for BackendError {
    fn error_class(&self) -> ErrorClass {
        match self {
            BackendError::Rpc(code) => ErrorClass::JsonRpc(*code),
            BackendError::Slow => ErrorClass::Timeout,
        }
    }
}

/// A server handler receiving `tools/call`.
#[mcp_instrumented(method = "tools/call", target = name, parent = &params)]
async fn handle_call(
    name: &str,
    params: serde_json::Value,
    api_key: &str,
) -> Result<serde_json::Value, BackendError> {
    let _ = api_key;
    match name {
        "fail" => Err(BackendError::Rpc(-32602)),
        "slow" => Err(BackendError::Slow),
        "tool-error" => Ok(json!({ "content": [], "isError": true })),
        _ => Ok(json!({ "content": [{ "type": "text", "text": "ok" }] })),
    }
}

/// The aggregator's call to a backend: injects its context into `_meta`.
#[mcp_instrumented(method = "tools/call", target = name, kind = client, server_id = backend, fields(backend, attempt = 1))]
async fn forward(
    backend: &str,
    name: &str,
    mut params: serde_json::Value,
) -> Result<serde_json::Value, BackendError> {
    inject_current_meta(&mut params);
    handle_call(name, params, "sk-live-should-never-appear").await
}

#[tokio::test]
async fn client_to_server_hop_is_one_trace_parented_through_meta() {
    let h = Harness::new();
    forward(
        "github",
        "search",
        json!({ "name": "search", "arguments": { "q": "secret-argument" } }),
    )
    .await
    .expect("ok");

    let spans = h.spans();
    let client = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .cloned()
        .expect("client span");
    let server = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .expect("server span");
    assert_eq!(client.name, "tools/call search");
    assert_eq!(server.name, "tools/call search");
    assert_eq!(
        server.span_context.trace_id(),
        client.span_context.trace_id(),
        "one trace"
    );
    assert_eq!(
        server.parent_span_id,
        client.span_context.span_id(),
        "server is the client's child"
    );
    assert!(
        server.parent_span_is_remote,
        "the parent came through _meta"
    );
    assert_eq!(
        client.parent_span_id,
        SpanId::INVALID,
        "the client call started the trace"
    );

    for span in [&client, server] {
        assert_eq!(
            attr(span, "mcp.method.name"),
            Some(&Value::from("tools/call"))
        );
        assert_eq!(attr(span, "gen_ai.tool.name"), Some(&Value::from("search")));
        assert_eq!(
            attr(span, "gen_ai.operation.name"),
            Some(&Value::from("execute_tool"))
        );
        assert_eq!(span.status, Status::Unset);
    }
    assert_eq!(
        attr(&client, "only1mcp.server.id"),
        Some(&Value::from("github"))
    );
    assert_eq!(attr(&client, "backend"), Some(&Value::from("github")));
    assert_eq!(attr(&client, "attempt"), Some(&Value::I64(1)));

    // Arguments are never recorded unless named: neither the tool arguments nor the key.
    for span in &spans {
        for KeyValue { value, .. } in &span.attributes {
            let text = value.as_str();
            assert!(
                !text.contains("secret-argument") && !text.contains("sk-live"),
                "{span:#?}"
            );
        }
    }
}

#[tokio::test]
async fn errors_are_classified_on_spans_and_metrics() {
    let h = Harness::new();
    let before = encode_text();
    let key = r#"only1mcp_mcp_requests_total{server_id="self",method="tools/call",status="#;
    // The tools this server serves (as its `tools/list` would say): label values from now on.
    for tool in ["fail", "slow", "tool-error"] {
        only1mcp_obs::catalogue::ToolName::new(tool);
    }
    assert!(handle_call("fail", json!({}), "k").await.is_err());
    assert!(handle_call("slow", json!({}), "k").await.is_err());
    assert!(handle_call("tool-error", json!({}), "k").await.is_ok());

    let failed = h.span("tools/call fail");
    assert_eq!(attr(&failed, "error.type"), Some(&Value::from("-32602")));
    assert_eq!(
        attr(&failed, "rpc.response.status_code"),
        Some(&Value::from("-32602"))
    );
    assert!(matches!(&failed.status, Status::Error { description } if description == "-32602"));
    assert_eq!(
        attr(&h.span("tools/call slow"), "error.type"),
        Some(&Value::from("timeout"))
    );
    assert_eq!(
        attr(&h.span("tools/call tool-error"), "error.type"),
        Some(&Value::from("tool_error"))
    );

    let after = encode_text();
    for (status, n) in [("error", 1.0), ("timeout", 1.0), ("tool_error", 1.0)] {
        let k = format!("{key}\"{status}\"}}");
        assert_eq!(series(&after, &k) - series(&before, &k), n, "{k}");
    }
    let k = r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="-32602",gen_ai_tool_name="fail"}"#;
    assert_eq!(series(&after, k) - series(&before, k), 1.0, "{k}");
}

/// A handler whose methods are named like rmcp's `ServerHandler`: the MCP method is inferred.
struct Handler;

#[mcp_instrumented]
impl Handler {
    async fn list_tools(&self) -> Result<Vec<String>, BackendError> {
        Ok(vec!["search".to_owned()])
    }

    fn get_prompt(&self, name: &str) -> Result<String, BackendError> {
        let _ = name;
        Ok("prompt".to_owned())
    }

    #[mcp_instrumented(skip)]
    fn helper(&self) -> u32 {
        7
    }

    #[mcp_instrumented(method = "ping", level = "debug")]
    fn custom(&self) -> u8 {
        1
    }
}

#[tokio::test]
async fn impl_blocks_infer_methods_and_honour_skip() {
    let h = Harness::new();
    let handler = Handler;
    handler.list_tools().await.expect("ok");
    handler.get_prompt("welcome").expect("ok");
    assert_eq!(handler.helper(), 7);
    assert_eq!(handler.custom(), 1);
    let names: Vec<String> = h.spans().iter().map(|s| s.name.to_string()).collect();
    assert!(names.contains(&"tools/list".to_owned()), "{names:?}");
    assert!(names.contains(&"prompts/get".to_owned()), "{names:?}");
    assert!(names.contains(&"ping".to_owned()), "{names:?}");
    assert_eq!(names.len(), 3, "helper is skipped: {names:?}");
    let sites = only1mcp_obs::trace::call_sites();
    assert!(
        sites
            .iter()
            .any(|s| s.function == "list_tools" && s.method == Some("tools/list"))
    );
    assert!(!sites.iter().any(|s| s.function == "helper"));
}

#[async_trait::async_trait]
trait Backend {
    async fn call_tool(&self, name: &str) -> Result<String, BackendError>;
    async fn read_resource(&self, uri: &str) -> Result<String, BackendError>;
}

struct First;
struct Second;

// Both attribute orders work: ours first (it sees `async fn`) ...
#[mcp_instrumented(kind = client, server_id = "first")]
#[async_trait::async_trait]
impl Backend for First {
    async fn call_tool(&self, name: &str) -> Result<String, BackendError> {
        Ok(name.to_owned())
    }

    async fn read_resource(&self, uri: &str) -> Result<String, BackendError> {
        Err(BackendError::Rpc(if uri.is_empty() {
            -32602
        } else {
            -32002
        }))
    }
}

// ... or async-trait first (it sees `Box::pin(async move { .. })`).
#[async_trait::async_trait]
#[mcp_instrumented(kind = client, server_id = "second")]
impl Backend for Second {
    async fn call_tool(&self, name: &str) -> Result<String, BackendError> {
        Ok(name.to_owned())
    }

    async fn read_resource(&self, uri: &str) -> Result<String, BackendError> {
        Ok(uri.to_owned())
    }
}

#[tokio::test]
async fn async_trait_in_either_order() {
    let h = Harness::new();
    First.call_tool("a").await.expect("ok");
    assert!(First.read_resource("file:///missing").await.is_err());
    Second.call_tool("b").await.expect("ok");
    Second.read_resource("file:///x").await.expect("ok");
    let spans = h.spans();
    let by_server = |id: &str| {
        spans
            .iter()
            .filter(|s| attr(s, "only1mcp.server.id") == Some(&Value::from(id.to_owned())))
            .count()
    };
    assert_eq!(by_server("first"), 2);
    assert_eq!(by_server("second"), 2);
    assert!(spans.iter().all(|s| s.span_kind == SpanKind::Client));
    let read = spans
        .iter()
        .find(|s| s.name == "resources/read" && attr(s, "error.type").is_some())
        .expect("failed read");
    assert_eq!(attr(read, "error.type"), Some(&Value::from("-32002")));
    // A resource URI is opt-in: it is not in the span name or attributes.
    assert!(spans.iter().all(|s| !s.name.contains("file://")));
}

#[tokio::test]
async fn a_dropped_future_counts_as_cancelled() {
    let h = Harness::new();
    // Never polled: nothing started, nothing recorded.
    drop(handle_call("search", json!({}), "k"));
    assert!(h.spans().is_empty());

    #[mcp_instrumented(method = "tools/call", target = "sleepy")]
    async fn sleepy() -> Result<(), BackendError> {
        std::future::pending::<()>().await;
        Ok(())
    }
    let _ = tokio::time::timeout(std::time::Duration::from_millis(5), sleepy()).await;
    let span = h.span("tools/call sleepy");
    assert_eq!(attr(&span, "error.type"), Some(&Value::from("cancelled")));
}

#[test]
fn a_provider_installed_after_calls_without_one_takes_effect_on_the_same_thread() {
    // The process-wide value (no other test of this file replaces it): this thread's copy of it
    // follows each replacement.
    #[mcp_instrumented(method = "ping")]
    fn ping() {}
    ping();
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    only1mcp_obs::trace::set_provider(&provider);
    ping();
    only1mcp_obs::trace::clear_provider();
    ping();
    let spans = exporter.get_finished_spans().expect("spans");
    assert_eq!(
        spans.len(),
        1,
        "only the call made while the provider was installed: {spans:?}"
    );
}

#[test]
fn with_call_metrics_off_a_call_records_spans_but_no_catalogue_series() {
    #[mcp_instrumented(method = "tools/call", target = "metrics_off_probe", kind = client, server_id = "metrics-off-backend")]
    fn probe() {}
    let (exporter, provider, _current) = common::in_memory();
    let runtime = only1mcp_obs::runtime::Runtime::default()
        .with_provider(&provider)
        .with_call_metrics(only1mcp_obs::trace::CallMetrics::Off)
        .shared();
    {
        let _off = runtime.enter();
        probe();
    }
    let spans = exporter.get_finished_spans().expect("spans");
    assert!(
        spans
            .iter()
            .any(|s| s.name == "tools/call metrics_off_probe")
    );
    let page = encode_text();
    assert!(!page.contains("metrics-off-backend"), "{page}");
    assert!(!page.contains("metrics_off_probe"), "{page}");
    // The same call under the default runtime is recorded.
    probe();
    let page = encode_text();
    assert!(page.contains(r#"server_id="metrics-off-backend""#));
}

/// The attributes of a backend, written once and spread into each function that calls it.
struct Peer {
    host: &'static str,
    port: u16,
    token: &'static str,
}

impl only1mcp_obs::trace::SpanFields for Peer {
    fn record_fields(&self, fields: &mut only1mcp_obs::trace::Fields<'_>) {
        fields.record("server.address", self.host);
        fields.record("server.port", &self.port);
        fields.record("peer.token", self.token);
        fields.record("peer.zone", &None::<String>);
    }
}

#[mcp_instrumented(method = "tools/call", target = tool, kind = client, fields(attempt = 2, ..peer))]
async fn spread_call(peer: &Peer, tool: &str) -> Result<(), BackendError> {
    let _ = (peer, tool);
    Ok(())
}

#[tokio::test]
async fn a_spread_records_every_attribute_of_its_value_redacted_like_any_field() {
    let h = Harness::new();
    let peer = Peer {
        host: "backend.internal",
        port: 8443,
        token: "hunter2",
    };
    spread_call(&peer, "spread").await.expect("call");
    let span = h.span("tools/call spread");
    assert_eq!(
        attr(&span, "server.address"),
        Some(&Value::from("backend.internal"))
    );
    assert_eq!(attr(&span, "server.port"), Some(&Value::from(8443_i64)));
    assert_eq!(attr(&span, "attempt"), Some(&Value::from(2_i64)));
    // A secret-named attribute is redacted, a `None` left out, as for a field named inline.
    assert_ne!(attr(&span, "peer.token"), Some(&Value::from("hunter2")));
    assert!(attr(&span, "peer.token").is_some());
    assert_eq!(attr(&span, "peer.zone"), None);
}
