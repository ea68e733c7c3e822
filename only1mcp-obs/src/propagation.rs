//! W3C trace context and baggage: in from HTTP headers and MCP `params._meta`, out to outgoing
//! HTTP requests and to the `_meta` of requests sent to backends. A malformed `traceparent`
//! yields no parent: the call starts a new trace.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{
    SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context as TaskContext, Poll};

/// The keys carried in headers and `_meta`.
pub const TRACEPARENT: &str = "traceparent";
/// W3C `tracestate`.
pub const TRACESTATE: &str = "tracestate";
/// W3C `baggage`.
pub const BAGGAGE: &str = "baggage";
/// Response header carrying the trace id.
pub const TRACE_ID_HEADER: &str = "x-trace-id";
/// Request and response header carrying the correlation id.
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

static WITH_BAGGAGE: LazyLock<TextMapCompositePropagator> = LazyLock::new(new_propagator);
static TRACECONTEXT_ONLY: LazyLock<TextMapCompositePropagator> = LazyLock::new(|| {
    TextMapCompositePropagator::new(vec![Box::new(TraceContextPropagator::new())])
});

/// A new W3C tracecontext + baggage propagator (to install as the global one).
pub fn new_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

/// The propagator in effect: W3C tracecontext (always on: spans cannot be parented without
/// it), plus baggage unless the configuration left it out of `tracing.propagation.formats` (see
/// [`Runtime`](crate::runtime::Runtime)).
pub fn propagator() -> &'static TextMapCompositePropagator {
    if crate::runtime::with(|rt| rt.baggage) {
        &WITH_BAGGAGE
    } else {
        &TRACECONTEXT_ONLY
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The context sent in HTTP headers (a new, empty context when there is none or it is malformed).
pub fn extract_headers(headers: &HeaderMap) -> Context {
    propagator().extract_with_context(&Context::new(), &HeaderExtractor(headers))
}

/// Writes `traceparent`, `tracestate` and `baggage` for `cx` into outgoing headers.
pub fn inject_headers(cx: &Context, headers: &mut HeaderMap) {
    propagator().inject_context(cx, &mut HeaderInjector(headers));
}

/// Writes the current context into outgoing headers.
pub fn inject_current_headers(headers: &mut HeaderMap) {
    inject_headers(&Context::current(), headers);
}

struct MetaExtractor<'a>(&'a Map<String, Value>);

impl Extractor for MetaExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct MetaInjector<'a>(&'a mut Map<String, Value>);

impl Injector for MetaInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), Value::String(value));
    }
}

/// The context in a `_meta` object; a new, empty context when it carries none.
pub(crate) fn extract_meta_object(meta: &Map<String, Value>) -> Context {
    propagator().extract_with_context(&Context::new(), &MetaExtractor(meta))
}

/// Writes `cx` into a `_meta` object, keeping its other keys.
pub(crate) fn inject_meta_object(cx: &Context, meta: &mut Map<String, Value>) {
    propagator().inject_context(cx, &mut MetaInjector(meta));
}

/// The context carried in an MCP request's `params._meta` (unprefixed `traceparent`,
/// `tracestate`, `baggage`); a new, empty context when absent or malformed.
///
/// ```
/// let params = serde_json::json!({ "name": "search", "_meta": {
///     "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
/// use opentelemetry::trace::TraceContextExt;
/// let cx = only1mcp_obs::propagation::extract_meta(&params);
/// assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// ```
pub fn extract_meta(params: &Value) -> Context {
    match params.get("_meta").and_then(Value::as_object) {
        Some(meta) => extract_meta_object(meta),
        None => Context::new(),
    }
}

/// Writes `cx` into `params._meta`, creating `params` and `_meta` objects when absent. Other
/// `_meta` keys (such as `progressToken`) are kept; non-object `params` are left alone.
pub fn inject_meta(cx: &Context, params: &mut Value) {
    if params.is_null() {
        *params = Value::Object(Map::new());
    }
    let Some(object) = params.as_object_mut() else {
        return;
    };
    let meta = object
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        inject_meta_object(cx, meta);
    }
}

/// Writes the current context (inside an instrumented client call: its span) into `params._meta`.
pub fn inject_current_meta(params: &mut Value) {
    inject_meta(&Context::current(), params);
}

/// Something a parent context can be read from: the `parent = ..` option of `#[mcp_instrumented]`.
/// An invalid or missing `traceparent` gives `None`: the call is parented on the current
/// (transport) context instead, or starts a new trace.
pub trait ParentContext {
    /// The parent context, if it carries a valid span context.
    fn parent_context(&self) -> Option<Context>;
}

fn valid(cx: Context) -> Option<Context> {
    cx.span().span_context().is_valid().then_some(cx)
}

impl ParentContext for Context {
    fn parent_context(&self) -> Option<Context> {
        valid(self.clone())
    }
}

impl ParentContext for Value {
    /// `params` of a request, read from its `_meta`.
    fn parent_context(&self) -> Option<Context> {
        valid(extract_meta(self))
    }
}

impl ParentContext for Map<String, Value> {
    /// `params` of a request as a map, read from its `_meta`.
    fn parent_context(&self) -> Option<Context> {
        let meta = self.get("_meta").and_then(Value::as_object)?;
        valid(extract_meta_object(meta))
    }
}

impl ParentContext for HeaderMap {
    fn parent_context(&self) -> Option<Context> {
        valid(extract_headers(self))
    }
}

impl<T: ParentContext> ParentContext for Option<T> {
    fn parent_context(&self) -> Option<Context> {
        self.as_ref().and_then(ParentContext::parent_context)
    }
}

impl<T: ParentContext + ?Sized> ParentContext for &T {
    fn parent_context(&self) -> Option<Context> {
        (**self).parent_context()
    }
}

/// The correlation id of a request, as the [`TraceLayer`] put it in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub String);

/// A tower layer for axum (or any `http` service): extracts the W3C context from the request's
/// headers, opens a SERVER span for the request, makes it current while the handler runs, and
/// adds `x-trace-id` and `x-correlation-id` (echoed when the client sent a sane one, generated
/// otherwise) to every response.
///
/// ```
/// let app: axum::Router = axum::Router::new()
///     .route("/mcp", axum::routing::post(|| async { "ok" }))
///     .layer(only1mcp_obs::propagation::TraceLayer::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl TraceLayer {
    /// The layer.
    pub fn new() -> Self {
        TraceLayer
    }
}

impl<S> tower_layer::Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner }
    }
}

/// The service [`TraceLayer`] wraps around an inner service.
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
}

/// A correlation id from a client is kept only if it is short, visible ASCII.
fn sane_correlation_id(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    ((1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b)))
        .then(|| String::from_utf8_lossy(bytes).into_owned())
}

fn new_id() -> String {
    crate::hex::u128_hex(rand::random::<u128>())
}

/// A context carrying a span context even when no tracer is installed, so that trace ids still
/// reach responses, logs and backends.
fn id_only_context(parent: &Context) -> Context {
    let ids = RandomIdGenerator::default();
    let parent_sc = parent.span().span_context().clone();
    let (trace_id, flags, state) = if parent_sc.is_valid() {
        (
            parent_sc.trace_id(),
            parent_sc.trace_flags(),
            parent_sc.trace_state().clone(),
        )
    } else {
        (
            ids.new_trace_id(),
            TraceFlags::default(),
            TraceState::default(),
        )
    };
    let sc = SpanContext::new(trace_id, ids.new_span_id(), flags, false, state);
    parent.with_remote_span_context(sc)
}

impl<S, B, R> tower_service::Service<http::Request<B>> for TraceService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let parent = extract_headers(request.headers());
        let correlation = request
            .headers()
            .get(CORRELATION_ID_HEADER)
            .and_then(sane_correlation_id)
            .unwrap_or_else(new_id);
        request
            .extensions_mut()
            .insert(CorrelationId(correlation.clone()));
        let method = request.method().as_str().to_owned();
        let cx = crate::runtime::with_tracer(|tracer| {
            let builder = SpanBuilder::from_name(method.clone())
                .with_kind(SpanKind::Server)
                .with_attributes([
                    KeyValue::new("http.request.method", method.clone()),
                    KeyValue::new("url.path", request.uri().path().to_owned()),
                    KeyValue::new("network.transport", "tcp"),
                    KeyValue::new("only1mcp.correlation_id", correlation.clone()),
                ]);
            parent.with_span(tracer.build_with_context(builder, &parent))
        })
        .unwrap_or_else(|| id_only_context(&parent));
        let trace_id = crate::hex::trace_id(cx.span().span_context().trace_id());
        let future = {
            let _attached = cx.clone().attach();
            self.inner.call(request)
        };
        Box::pin(async move {
            let result = opentelemetry::trace::FutureExt::with_context(future, cx.clone()).await;
            let span = cx.span();
            if let Ok(response) = &result {
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if status.is_server_error() {
                    span.set_status(Status::error(status.as_str().to_owned()));
                }
            }
            span.end();
            result.map(|mut response| {
                let headers = response.headers_mut();
                if let Ok(value) = HeaderValue::from_str(&trace_id) {
                    headers.insert(TRACE_ID_HEADER, value);
                }
                if let Ok(value) = HeaderValue::from_str(&correlation) {
                    headers.insert(CORRELATION_ID_HEADER, value);
                }
                response
            })
        })
    }
}
