//! W3C propagation: HTTP headers through the axum layer, `params._meta` in and out, and
//! malformed input that must start a new trace without a panic.

mod common;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Request};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::propagation::{
    CorrelationId, TraceLayer, extract_headers, extract_meta, inject_meta,
};
use only1mcp_obs::runtime::Runtime;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt};
use opentelemetry_sdk::trace::SpanData;
use proptest::prelude::*;
use serde_json::json;
use tower::ServiceExt;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[mcp_instrumented(method = "tools/call", target = name, parent = &params)]
async fn serve_tool(name: &str, params: serde_json::Value) -> Result<String, std::io::Error> {
    Ok(only1mcp_obs::call::trace_id().unwrap_or_default() + name)
}

fn app() -> axum::Router {
    axum::Router::new()
        .route(
            "/mcp",
            axum::routing::post(|request: axum::extract::Request| async move {
                let correlation = request
                    .extensions()
                    .get::<CorrelationId>()
                    .map(|c| c.0.clone())
                    .unwrap_or_default();
                serve_tool("echo", json!({ "correlation": correlation }))
                    .await
                    .unwrap_or_default()
            }),
        )
        .layer(TraceLayer::new())
}

#[tokio::test]
async fn http_layer_continues_the_trace_and_sets_response_headers() {
    let (exporter, _provider, current) = common::in_memory();
    let request = Request::post("/mcp")
        .header("traceparent", PARENT)
        .header("x-correlation-id", "order-42")
        .body(Body::empty())
        .expect("request");
    let response = app().oneshot(request).await.expect("response");
    drop(current);

    assert_eq!(
        response.headers()["x-trace-id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(response.headers()["x-correlation-id"], "order-42");
    let spans: Vec<SpanData> = exporter.get_finished_spans().expect("spans");
    let http = spans.iter().find(|s| s.name == "POST").expect("http span");
    let tool = spans
        .iter()
        .find(|s| s.name == "tools/call echo")
        .expect("tool span");
    assert_eq!(http.span_kind, SpanKind::Server);
    assert_eq!(
        http.parent_span_id,
        SpanId::from_hex("00f067aa0ba902b7").expect("hex")
    );
    assert_eq!(
        tool.parent_span_id,
        http.span_context.span_id(),
        "no _meta: the tool span is the HTTP span's child"
    );
    assert_eq!(tool.span_context.trace_id(), http.span_context.trace_id());
}

#[tokio::test]
async fn correlation_ids_are_generated_when_absent_or_hostile() {
    // No tracer: ids are still made.
    let _current = Runtime::default().shared().enter();
    for header in
        [None, Some("has spaces"), Some("x".repeat(300).as_str())].map(|h| h.map(str::to_owned))
    {
        let mut request = Request::post("/mcp").body(Body::empty()).expect("request");
        if let Some(value) = &header {
            request.headers_mut().insert(
                "x-correlation-id",
                HeaderValue::from_str(value).expect("header"),
            );
        }
        let response = app().oneshot(request).await.expect("response");
        let id = response.headers()["x-correlation-id"]
            .to_str()
            .expect("ascii");
        assert_eq!(id.len(), 32, "generated: {id}");
        assert_ne!(Some(id), header.as_deref());
        // Without a tracer, responses still carry a trace id.
        assert_eq!(response.headers()["x-trace-id"].len(), 32);
    }
}

#[tokio::test]
async fn meta_context_parents_the_server_span_and_links_the_transport() {
    let (exporter, _provider, current) = common::in_memory();
    let request = Request::post("/mcp")
        .header("traceparent", PARENT)
        .body(Body::empty())
        .expect("request");
    // The handler reads `_meta` from a different trace than the transport's.
    let meta_parent = "00-11111111111111111111111111111111-2222222222222222-01";
    let app = axum::Router::new()
        .route(
            "/mcp",
            axum::routing::post(move || async move {
                serve_tool("linked", json!({ "_meta": { "traceparent": meta_parent } }))
                    .await
                    .unwrap_or_default()
            }),
        )
        .layer(TraceLayer::new());
    app.oneshot(request).await.expect("response");
    drop(current);
    let spans = exporter.get_finished_spans().expect("spans");
    let tool = spans
        .iter()
        .find(|s| s.name == "tools/call linked")
        .expect("tool span");
    assert_eq!(
        tool.span_context.trace_id().to_string(),
        "11111111111111111111111111111111"
    );
    assert_eq!(
        tool.parent_span_id,
        SpanId::from_hex("2222222222222222").expect("hex")
    );
    let link = tool
        .links
        .links
        .first()
        .expect("a link to the transport span");
    assert_eq!(
        link.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[test]
fn meta_injection_keeps_other_keys_and_round_trips() {
    let cx = extract_meta(&json!({ "_meta": { "traceparent": PARENT, "baggage": "tenant=acme" } }));
    let mut params = json!({ "name": "x", "_meta": { "progressToken": 7 } });
    inject_meta(&cx, &mut params);
    assert_eq!(params["_meta"]["progressToken"], 7);
    assert_eq!(params["_meta"]["traceparent"], PARENT);
    assert_eq!(params["_meta"]["baggage"], "tenant=acme");
    let mut null = serde_json::Value::Null;
    inject_meta(&cx, &mut null);
    assert_eq!(null["_meta"]["traceparent"], PARENT);
    let mut array = json!([1, 2]);
    inject_meta(&cx, &mut array);
    assert_eq!(array, json!([1, 2]), "non-object params are left alone");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn malformed_traceparent_in_headers_gives_no_parent(value in "[ -~]{0,80}") {
        prop_assume!(opentelemetry::trace::TraceId::from_hex(value.get(3..35).unwrap_or("")).is_err() || !value.starts_with("00-"));
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert("traceparent", v);
        }
        let cx = extract_headers(&headers);
        prop_assert!(!cx.span().span_context().is_valid());
    }

    #[test]
    fn malformed_traceparent_in_meta_starts_a_new_root_trace(value in any::<String>(), junk in any::<i64>()) {
        let (exporter, _provider, current) = common::in_memory();
        let params = json!({ "_meta": { "traceparent": value, "tracestate": junk, "baggage": [junk] } });
        let result = block_on(serve_tool("fuzz", params));
        drop(current);
        prop_assert!(result.is_ok());
        let spans = exporter.get_finished_spans().expect("spans");
        let span = spans.iter().find(|s| s.name == "tools/call fuzz").expect("span");
        let parent_valid = opentelemetry::trace::TraceId::from_hex(value.get(3..35).unwrap_or("zz")).is_ok()
            && value.len() == 55 && value.starts_with("00-");
        if !parent_valid {
            prop_assert_eq!(span.parent_span_id, SpanId::INVALID, "a new root trace");
        }
    }
}

/// Runs a future to completion on the current thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}
