//! A real OTLP trace receiver on 127.0.0.1: gRPC and HTTP/protobuf, built on the
//! `opentelemetry-proto` types. It keeps typed attribute values and resource attributes and
//! answers span queries (service, name, attributes, trace id) with a deadline.

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A typed attribute value, as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Double(f64),
    /// An array.
    Array(Vec<AttrValue>),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A nested map.
    Map(BTreeMap<String, AttrValue>),
    /// No value.
    Empty,
}

impl AttrValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    fn from_proto(value: Option<&AnyValue>) -> Self {
        match value.and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => AttrValue::String(s.clone()),
            Some(any_value::Value::BoolValue(b)) => AttrValue::Bool(*b),
            Some(any_value::Value::IntValue(i)) => AttrValue::Int(*i),
            Some(any_value::Value::DoubleValue(d)) => AttrValue::Double(*d),
            Some(any_value::Value::ArrayValue(a)) => AttrValue::Array(
                a.values
                    .iter()
                    .map(|v| AttrValue::from_proto(Some(v)))
                    .collect(),
            ),
            Some(any_value::Value::KvlistValue(kv)) => AttrValue::Map(attributes(&kv.values)),
            Some(any_value::Value::BytesValue(b)) => AttrValue::Bytes(b.clone()),
            _ => AttrValue::Empty,
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::String(s.to_owned())
    }
}

impl From<i64> for AttrValue {
    fn from(i: i64) -> Self {
        AttrValue::Int(i)
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Bool(b)
    }
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, AttrValue> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), AttrValue::from_proto(kv.value.as_ref())))
        .collect()
}

/// The span kind, as in OTLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    fn from_proto(kind: i32) -> Self {
        match kind {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }
}

/// A received span, with its resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root span.
    pub parent_span_id: Option<String>,
    /// The span name.
    pub name: String,
    /// The kind.
    pub kind: SpanKind,
    /// Span attributes.
    pub attributes: BTreeMap<String, AttrValue>,
    /// Resource attributes (`service.name`, ...).
    pub resource: BTreeMap<String, AttrValue>,
    /// Instrumentation scope name.
    pub scope: String,
    /// Status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    /// Status message.
    pub status_message: String,
    /// Links as (trace id, span id).
    pub links: Vec<(String, String)>,
    /// Start time, Unix nanoseconds.
    pub start_unix_nano: u64,
    /// End time, Unix nanoseconds.
    pub end_unix_nano: u64,
    /// `grpc` or `http` (how it arrived).
    pub transport: &'static str,
}

impl ReceivedSpan {
    /// An attribute.
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attributes.get(key)
    }

    /// `service.name` of the resource.
    pub fn service(&self) -> Option<&str> {
        self.resource
            .get("service.name")
            .and_then(AttrValue::as_str)
    }
}

impl fmt::Display for ReceivedSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{:?}] trace={} span={} parent={:?}",
            self.name, self.kind, self.trace_id, self.span_id, self.parent_span_id
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn flatten(request: &ExportTraceServiceRequest, transport: &'static str) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for span in &ss.spans {
                let status = span.status.clone().unwrap_or_default();
                out.push(ReceivedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: (!span.parent_span_id.is_empty())
                        .then(|| hex(&span.parent_span_id)),
                    name: span.name.clone(),
                    kind: SpanKind::from_proto(span.kind),
                    attributes: attributes(&span.attributes),
                    resource: resource.clone(),
                    scope: scope.clone(),
                    status_code: status.code,
                    status_message: status.message,
                    links: span
                        .links
                        .iter()
                        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
                        .collect(),
                    start_unix_nano: span.start_time_unix_nano,
                    end_unix_nano: span.end_time_unix_nano,
                    transport,
                });
            }
        }
    }
    out
}

/// What the receiver has stored.
#[derive(Debug, Default)]
struct Store {
    spans: Mutex<Vec<ReceivedSpan>>,
    requests: Mutex<u64>,
}

impl Store {
    fn add(&self, request: &ExportTraceServiceRequest, transport: &'static str) {
        *self.requests.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(flatten(request, transport));
    }
}

#[derive(Clone)]
struct Grpc(Arc<Store>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add(request.get_ref(), "grpc");
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

async fn http_export(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, Vec<u8>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-protobuf") {
        return (
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            b"only application/x-protobuf".to_vec(),
        );
    }
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            store.add(&request, "http");
            (
                axum::http::StatusCode::OK,
                ExportTraceServiceResponse {
                    partial_success: None,
                }
                .encode_to_vec(),
            )
        }
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            e.to_string().into_bytes(),
        ),
    }
}

/// Matches spans; every condition set must hold.
#[derive(Debug, Clone, Default)]
pub struct SpanQuery {
    /// `service.name` of the resource.
    pub service: Option<String>,
    /// Exact span name.
    pub name: Option<String>,
    /// Trace id (32 hex digits).
    pub trace_id: Option<String>,
    /// Attributes that must be present with these values.
    pub attributes: Vec<(String, AttrValue)>,
}

impl SpanQuery {
    /// Spans named `name`.
    pub fn name(name: &str) -> Self {
        SpanQuery {
            name: Some(name.to_owned()),
            ..SpanQuery::default()
        }
    }

    /// Also of service `service`.
    pub fn service(mut self, service: &str) -> Self {
        self.service = Some(service.to_owned());
        self
    }

    /// Also in trace `trace_id`.
    pub fn trace(mut self, trace_id: &str) -> Self {
        self.trace_id = Some(trace_id.to_owned());
        self
    }

    /// Also with attribute `key` = `value`.
    pub fn attr(mut self, key: &str, value: impl Into<AttrValue>) -> Self {
        self.attributes.push((key.to_owned(), value.into()));
        self
    }

    /// Whether `span` matches.
    pub fn matches(&self, span: &ReceivedSpan) -> bool {
        self.service
            .as_deref()
            .is_none_or(|s| span.service() == Some(s))
            && self.name.as_deref().is_none_or(|n| span.name == n)
            && self.trace_id.as_deref().is_none_or(|t| span.trace_id == t)
            && self
                .attributes
                .iter()
                .all(|(k, v)| span.attributes.get(k) == Some(v))
    }
}

/// A running OTLP receiver; stops when dropped.
pub struct OtlpReceiver {
    grpc: SocketAddr,
    http: SocketAddr,
    store: Arc<Store>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("grpc", &self.grpc)
            .field("http", &self.http)
            .finish()
    }
}

impl OtlpReceiver {
    /// Starts gRPC and HTTP/protobuf listeners on free ports of 127.0.0.1, on a thread of its own.
    ///
    /// ```
    /// let receiver = only1mcp_obs_testkit::traces::OtlpReceiver::start().unwrap();
    /// assert!(receiver.grpc_endpoint().starts_with("http://127.0.0.1:"));
    /// assert!(receiver.spans().is_empty());
    /// ```
    pub fn start() -> io::Result<Self> {
        let grpc_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let http_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        grpc_listener.set_nonblocking(true)?;
        http_listener.set_nonblocking(true)?;
        let (grpc, http) = (grpc_listener.local_addr()?, http_listener.local_addr()?);
        let store = Arc::new(Store::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let served = store.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let (Ok(grpc_listener), Ok(http_listener)) = (
                        tokio::net::TcpListener::from_std(grpc_listener),
                        tokio::net::TcpListener::from_std(http_listener),
                    ) else {
                        return;
                    };
                    let grpc = tonic::transport::Server::builder()
                        .add_service(TraceServiceServer::new(Grpc(served.clone())))
                        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                            grpc_listener,
                        ));
                    let app = axum::Router::new()
                        .route("/v1/traces", axum::routing::post(http_export))
                        .with_state(served);
                    let http = axum::serve(http_listener, app);
                    tokio::select! {
                        _ = grpc => {}
                        _ = http.into_future() => {}
                        _ = rx => {}
                    }
                });
            })?;
        Ok(OtlpReceiver {
            grpc,
            http,
            store,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// The HTTP endpoint's base URL; spans go to its `/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Export requests received so far.
    pub fn requests(&self) -> u64 {
        *self
            .store
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Spans matching `query`.
    pub fn find(&self, query: &SpanQuery) -> Vec<ReceivedSpan> {
        self.spans()
            .into_iter()
            .filter(|s| query.matches(s))
            .collect()
    }

    /// Every span of a trace, parents before children where the order is known.
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        let mut spans: Vec<_> = self
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        spans.sort_by_key(|s| s.start_unix_nano);
        spans
    }

    /// Waits until a span matches `query`; on timeout the error lists what did arrive.
    pub fn wait_for(&self, query: &SpanQuery, deadline: Duration) -> Result<ReceivedSpan, String> {
        crate::poll(deadline, || self.find(query).into_iter().next()).map_err(|e| {
            let seen: Vec<String> = self.spans().iter().map(ToString::to_string).collect();
            format!(
                "no span matching {query:?} ({e}); received {} spans: {seen:#?}",
                seen.len()
            )
        })
    }

    /// Waits until at least `n` spans match `query`.
    pub fn wait_for_count(
        &self,
        query: &SpanQuery,
        n: usize,
        deadline: Duration,
    ) -> Result<Vec<ReceivedSpan>, String> {
        crate::poll(deadline, || {
            let found = self.find(query);
            (found.len() >= n).then_some(found)
        })
        .map_err(|e| {
            format!(
                "fewer than {n} spans matching {query:?} ({e}); got {}",
                self.find(query).len()
            )
        })
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
