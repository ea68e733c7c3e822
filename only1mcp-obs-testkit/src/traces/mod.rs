//! Trace backends for tests: where spans go over OTLP, and one query API over what arrived.
//!
//! Two backends answer the same queries ([`SpanQuery`], [`TraceTree`], waits with a deadline):
//!
//! - [`Jaeger`]: a real Jaeger v2 (the pinned release), as a local process or a container
//!   ([`JAEGER_IMAGE`], host networking), receiving OTLP over gRPC and HTTP and queried through
//!   its HTTP API (`/api/v3`, which returns the spans as OTLP/JSON) by [`JaegerQuery`];
//! - [`OtlpReceiver`]: a real OTLP receiver inside the test process (gRPC and HTTP/protobuf on
//!   127.0.0.1), built on the `opentelemetry-proto` types, for machines without Jaeger.
//!
//! Both turn what they hold into [`ReceivedSpan`]s with the same code: typed attribute values,
//! resource attributes, kind, status, parent and links as sent. [`TraceBackend::start`] picks
//! Jaeger when it can run on the backend (binary built, or image in the engine), the receiver
//! otherwise; `ONLY1MCP_TESTKIT_TRACES` (`jaeger`, `receiver`, `auto`) overrides, and
//! `ONLY1MCP_TESTKIT_REQUIRE=jaeger` makes a Jaeger that cannot run a failure.

mod jaeger;
mod receiver;

pub use jaeger::{JAEGER_IMAGE, JAEGER_IMAGE_ENV, Jaeger, JaegerQuery};
pub use receiver::OtlpReceiver;

use crate::backend::Backend;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

/// The environment variable that picks the trace backend: `jaeger`, `receiver` or `auto`.
pub const TRACES_ENV: &str = "ONLY1MCP_TESTKIT_TRACES";

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
    pub(crate) fn from_proto(kind: i32) -> Self {
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
    /// How it arrived: `grpc` or `http` at the in-process receiver, `jaeger` when read back
    /// from Jaeger (which does not say).
    pub transport: &'static str,
    /// Span events (Jaeger's logs), in order.
    pub events: Vec<SpanEvent>,
}

/// An event of a span: its name and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    /// The event name (a `tracing` event's message).
    pub name: String,
    /// Its attributes.
    pub attributes: BTreeMap<String, AttrValue>,
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

/// Flattens OTLP resource spans into [`ReceivedSpan`]s: the one conversion both backends use.
pub(crate) fn flatten(
    resource_spans: &[ResourceSpans],
    transport: &'static str,
) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in resource_spans {
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
                    events: span
                        .events
                        .iter()
                        .map(|e| SpanEvent {
                            name: e.name.clone(),
                            attributes: attributes(&e.attributes),
                        })
                        .collect(),
                });
            }
        }
    }
    out
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
    /// The span kind.
    pub kind: Option<SpanKind>,
    /// The parent: `Some(None)` for a root span, `Some(Some(id))` for a child of span `id`.
    pub parent: Option<Option<String>>,
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

    /// Also of kind `kind`.
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Also a child of the span with id `parent_span_id`.
    pub fn child_of(mut self, parent_span_id: &str) -> Self {
        self.parent = Some(Some(parent_span_id.to_owned()));
        self
    }

    /// Also a root span (no parent).
    pub fn root(mut self) -> Self {
        self.parent = Some(None);
        self
    }

    /// Whether `span` matches.
    pub fn matches(&self, span: &ReceivedSpan) -> bool {
        self.kind.is_none_or(|k| span.kind == k)
            && self
                .parent
                .as_ref()
                .is_none_or(|p| span.parent_span_id == *p)
            && self
                .service
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

/// Every span of one trace, with its parent/child structure. Displays as an indented tree.
///
/// ```
/// use only1mcp_obs_testkit::traces::{SpanQuery, TraceTree};
/// let tree = TraceTree::new("0af7651916cd43dd8448eb211c80319c", Vec::new());
/// assert!(tree.is_empty());
/// assert!(tree.find(&SpanQuery::name("tools/call search")).is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TraceTree {
    trace_id: String,
    spans: Vec<ReceivedSpan>,
}

impl TraceTree {
    /// The spans of `spans` that belong to trace `trace_id`, ordered by start time.
    pub fn new(trace_id: &str, spans: Vec<ReceivedSpan>) -> Self {
        let mut spans: Vec<_> = spans
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        spans.sort_by(|a, b| (a.start_unix_nano, &a.span_id).cmp(&(b.start_unix_nano, &b.span_id)));
        TraceTree {
            trace_id: trace_id.to_owned(),
            spans,
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// Every span, by start time.
    pub fn spans(&self) -> &[ReceivedSpan] {
        &self.spans
    }

    /// How many spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether no span of the trace is known.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Spans whose parent is not in the trace (the root, or orphans whose parent is missing).
    pub fn roots(&self) -> Vec<&ReceivedSpan> {
        self.spans
            .iter()
            .filter(|s| {
                s.parent_span_id
                    .as_ref()
                    .is_none_or(|p| self.span(p).is_none())
            })
            .collect()
    }

    /// The span with id `span_id`.
    pub fn span(&self, span_id: &str) -> Option<&ReceivedSpan> {
        self.spans.iter().find(|s| s.span_id == span_id)
    }

    /// The parent of `span`, when it is in the trace.
    pub fn parent(&self, span: &ReceivedSpan) -> Option<&ReceivedSpan> {
        span.parent_span_id.as_deref().and_then(|p| self.span(p))
    }

    /// The direct children of `span`.
    pub fn children(&self, span: &ReceivedSpan) -> Vec<&ReceivedSpan> {
        self.spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref() == Some(span.span_id.as_str()))
            .collect()
    }

    /// `span` and its ancestors, root first.
    pub fn path(&self, span: &ReceivedSpan) -> Vec<&ReceivedSpan> {
        let mut path = Vec::new();
        let mut at = self.span(&span.span_id);
        while let Some(s) = at {
            // A cycle (a broken exporter) must not loop forever.
            if path.iter().any(|p: &&ReceivedSpan| p.span_id == s.span_id) {
                break;
            }
            path.push(s);
            at = self.parent(s);
        }
        path.reverse();
        path
    }

    /// Spans matching `query`.
    pub fn find(&self, query: &SpanQuery) -> Vec<&ReceivedSpan> {
        self.spans.iter().filter(|s| query.matches(s)).collect()
    }

    fn write_subtree(
        &self,
        f: &mut fmt::Formatter<'_>,
        span: &ReceivedSpan,
        depth: usize,
        seen: &mut Vec<String>,
    ) -> fmt::Result {
        if seen.contains(&span.span_id) {
            return Ok(());
        }
        seen.push(span.span_id.clone());
        writeln!(
            f,
            "{:indent$}{} [{:?}] service={} span={}",
            "",
            span.name,
            span.kind,
            span.service().unwrap_or("?"),
            span.span_id,
            indent = depth * 2
        )?;
        for child in self.children(span) {
            self.write_subtree(f, child, depth + 1, seen)?;
        }
        Ok(())
    }
}

impl fmt::Display for TraceTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trace {} ({} spans)", self.trace_id, self.spans.len())?;
        let mut seen = Vec::new();
        for root in self.roots() {
            self.write_subtree(f, root, 1, &mut seen)?;
        }
        Ok(())
    }
}

/// Polls `fetch` until at least `n` spans match `query`; on timeout the error says what the
/// backend held (or why reading it failed).
pub(crate) fn wait_spans(
    backend: &str,
    fetch: impl Fn() -> io::Result<Vec<ReceivedSpan>>,
    query: &SpanQuery,
    n: usize,
    deadline: Duration,
) -> Result<Vec<ReceivedSpan>, crate::WaitError> {
    let last = std::cell::RefCell::new(Ok(Vec::new()));
    crate::poll(deadline, || {
        let fetched = fetch();
        let found = match &fetched {
            Ok(spans) => spans.iter().filter(|s| query.matches(s)).cloned().collect(),
            Err(_) => Vec::new(),
        };
        *last.borrow_mut() = fetched;
        (found.len() >= n).then_some(found)
    })
    .map_err(|e| {
        let held = match &*last.borrow() {
            Ok(spans) => {
                let matching = spans.iter().filter(|s| query.matches(s)).count();
                let listed: Vec<String> = spans.iter().take(50).map(ToString::to_string).collect();
                format!(
                    "{matching} matching; it holds {} spans{}: {listed:#?}",
                    spans.len(),
                    if spans.len() > 50 { " (first 50)" } else { "" }
                )
            }
            Err(err) => format!("reading it failed: {err}"),
        };
        e.of(
            format!("{n} spans matching {query:?} at the {backend}"),
            held,
        )
    })
}

/// Which trace backend a [`TraceBackend`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceBackendKind {
    /// Jaeger v2.
    Jaeger,
    /// The in-process OTLP receiver.
    Receiver,
}

impl fmt::Display for TraceBackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceBackendKind::Jaeger => "Jaeger",
            TraceBackendKind::Receiver => "in-process OTLP receiver",
        })
    }
}

impl TraceBackendKind {
    /// The trace backend for `backend`, and why: `ONLY1MCP_TESTKIT_TRACES` when set, else
    /// Jaeger when it can run on `backend` or `ONLY1MCP_TESTKIT_REQUIRE` lists `jaeger` (then
    /// starting it fails with the reason), else the receiver.
    pub fn choose(backend: Backend) -> (TraceBackendKind, String) {
        match std::env::var(TRACES_ENV).as_deref() {
            Ok("jaeger") => (TraceBackendKind::Jaeger, format!("{TRACES_ENV}=jaeger")),
            Ok("receiver") => (TraceBackendKind::Receiver, format!("{TRACES_ENV}=receiver")),
            _ => match Jaeger::unavailable(backend) {
                None => (
                    TraceBackendKind::Jaeger,
                    format!("Jaeger can run on the {backend} backend"),
                ),
                Some(why) if crate::backend::required("jaeger") => (
                    TraceBackendKind::Jaeger,
                    format!("required ({}) although {why}", crate::backend::REQUIRE_ENV),
                ),
                Some(why) => (TraceBackendKind::Receiver, why),
            },
        }
    }
}

enum Inner {
    Jaeger(Box<Jaeger>),
    Receiver(OtlpReceiver),
}

/// Where a test's spans go, and the one query API over them, whichever backend holds them.
///
/// ```no_run
/// use only1mcp_obs_testkit::backend::Backend;
/// use only1mcp_obs_testkit::traces::{SpanKind, SpanQuery, TraceBackend};
/// use std::time::Duration;
///
/// let traces = TraceBackend::start(Backend::from_env()).unwrap();
/// // ... export spans over OTLP to traces.grpc_endpoint() ...
/// let server = traces
///     .wait_for(&SpanQuery::name("tools/call search").kind(SpanKind::Server), Duration::from_secs(15))
///     .unwrap();
/// let tree = traces.wait_for_trace(&server.trace_id, 3, Duration::from_secs(15)).unwrap();
/// println!("{tree}");
/// ```
pub struct TraceBackend {
    inner: Inner,
}

impl fmt::Debug for TraceBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Jaeger(j) => j.fmt(f),
            Inner::Receiver(r) => r.fmt(f),
        }
    }
}

impl From<OtlpReceiver> for TraceBackend {
    fn from(receiver: OtlpReceiver) -> Self {
        TraceBackend {
            inner: Inner::Receiver(receiver),
        }
    }
}

impl From<Jaeger> for TraceBackend {
    fn from(jaeger: Jaeger) -> Self {
        TraceBackend {
            inner: Inner::Jaeger(Box::new(jaeger)),
        }
    }
}

impl TraceBackend {
    /// Starts the trace backend [`TraceBackendKind::choose`] picks for `backend`, and says on the
    /// terminal which one and why.
    pub fn start(backend: Backend) -> io::Result<Self> {
        let (kind, why) = TraceBackendKind::choose(backend);
        let traces = match kind {
            TraceBackendKind::Jaeger => {
                TraceBackend::from(Jaeger::start(backend).map_err(|e| {
                    io::Error::new(e.kind(), format!("Jaeger on the {backend} backend: {e}"))
                })?)
            }
            TraceBackendKind::Receiver => TraceBackend::from(OtlpReceiver::start()?),
        };
        let detail = match &traces.inner {
            Inner::Jaeger(j) => format!("{} at {}", j.image(), j.query().url()),
            Inner::Receiver(r) => r.grpc_endpoint(),
        };
        let _ = writeln!(io::stderr(), "[traces] {kind} ({detail}): {why}");
        Ok(traces)
    }

    /// Which backend this is.
    pub fn kind(&self) -> TraceBackendKind {
        match &self.inner {
            Inner::Jaeger(_) => TraceBackendKind::Jaeger,
            Inner::Receiver(_) => TraceBackendKind::Receiver,
        }
    }

    /// The OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub fn grpc_endpoint(&self) -> String {
        match &self.inner {
            Inner::Jaeger(j) => j.grpc_endpoint(),
            Inner::Receiver(r) => r.grpc_endpoint(),
        }
    }

    /// The OTLP/HTTP base URL; spans go to its `/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        match &self.inner {
            Inner::Jaeger(j) => j.http_endpoint(),
            Inner::Receiver(r) => r.http_endpoint(),
        }
    }

    /// The Jaeger, when this is one.
    pub fn jaeger(&self) -> Option<&Jaeger> {
        match &self.inner {
            Inner::Jaeger(j) => Some(j),
            Inner::Receiver(_) => None,
        }
    }

    /// The in-process receiver, when this is one.
    pub fn receiver(&self) -> Option<&OtlpReceiver> {
        match &self.inner {
            Inner::Jaeger(_) => None,
            Inner::Receiver(r) => Some(r),
        }
    }

    /// Every span the backend holds.
    pub fn spans(&self) -> io::Result<Vec<ReceivedSpan>> {
        match &self.inner {
            Inner::Jaeger(j) => j.query().spans(),
            Inner::Receiver(r) => Ok(r.spans()),
        }
    }

    /// Spans matching `query`.
    pub fn find(&self, query: &SpanQuery) -> io::Result<Vec<ReceivedSpan>> {
        Ok(self
            .spans()?
            .into_iter()
            .filter(|s| query.matches(s))
            .collect())
    }

    /// Every span of trace `trace_id` known so far.
    pub fn trace(&self, trace_id: &str) -> io::Result<TraceTree> {
        let spans = match &self.inner {
            Inner::Jaeger(j) => j.query().trace(trace_id)?,
            Inner::Receiver(r) => r.spans(),
        };
        Ok(TraceTree::new(trace_id, spans))
    }

    /// Waits until a span matches `query`; on timeout the error lists what the backend held.
    pub fn wait_for(
        &self,
        query: &SpanQuery,
        deadline: Duration,
    ) -> Result<ReceivedSpan, crate::WaitError> {
        self.wait_for_count(query, 1, deadline)
            .map(|mut found| found.swap_remove(0))
    }

    /// Waits until at least `n` spans match `query`.
    pub fn wait_for_count(
        &self,
        query: &SpanQuery,
        n: usize,
        deadline: Duration,
    ) -> Result<Vec<ReceivedSpan>, crate::WaitError> {
        wait_spans(
            &self.kind().to_string(),
            || self.spans(),
            query,
            n,
            deadline,
        )
    }

    /// Waits until trace `trace_id` has at least `n` spans, and returns its tree.
    pub fn wait_for_trace(
        &self,
        trace_id: &str,
        n: usize,
        deadline: Duration,
    ) -> Result<TraceTree, crate::WaitError> {
        let query = SpanQuery {
            trace_id: Some(trace_id.to_owned()),
            ..SpanQuery::default()
        };
        wait_spans(
            &self.kind().to_string(),
            || self.trace(trace_id).map(|t| t.spans),
            &query,
            n,
            deadline,
        )
        .map(|spans| TraceTree::new(trace_id, spans))
    }
}
