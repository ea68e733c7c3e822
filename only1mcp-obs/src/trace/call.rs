//! What `#[mcp_instrumented]` expands to: one [`Call`] per invocation, which opens the span,
//! times the call, classifies its outcome and records the metrics.

use crate::LabelValue as _;
#[cfg(feature = "catalogue")]
use crate::catalogue::{
    ErrorType, MCP_CLIENT_OPERATION_DURATION, MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL,
    MCP_SERVER_OPERATION_DURATION, RequestStatus,
};
use crate::catalogue::{McpMethod, ServerId, ToolName};
use crate::log::REDACTED;
#[cfg(feature = "catalogue")]
use crate::runtime::HISTOGRAMS;
use crate::runtime::{self, PER_BACKEND, PER_TOOL, Runtime};
use opentelemetry::trace::{Link, SpanBuilder, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, ContextGuard, KeyValue, Value};
use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

/// Whether a call is made to a backend or received from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A call to a backend server (span kind CLIENT, `mcp_client_operation_duration_seconds`).
    Client,
    /// A call received from a client (span kind SERVER, `mcp_server_operation_duration_seconds`).
    Server,
}

/// The level of the line logged for a successful call (when `log_calls` is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CallLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Describes one instrumented function; every one is registered at link time (see
/// [`call_sites`]), so dashboards can have a row per instrumented function.
#[derive(Debug)]
pub struct CallSite {
    /// The function's name.
    pub function: &'static str,
    /// Its module.
    pub module_path: &'static str,
    /// Its source file.
    pub file: &'static str,
    /// Its line.
    pub line: u32,
    /// The MCP method when it is known at compile time.
    pub method: Option<&'static str>,
    /// Client or server.
    pub kind: CallKind,
    /// Level of the success line.
    pub level: CallLevel,
    /// Names of the fields it records.
    pub fields: &'static [&'static str],
    #[doc(hidden)]
    pub cache: SiteCache,
}

/// The series a call site resolved for its first successful call; later calls with the same
/// labels reuse them instead of resolving again.
#[doc(hidden)]
#[derive(Debug)]
#[cfg_attr(not(feature = "catalogue"), allow(dead_code))]
pub struct SiteCache {
    series: OnceLock<CachedSeries>,
}

#[derive(Debug)]
#[cfg_attr(not(feature = "catalogue"), allow(dead_code))]
struct CachedSeries {
    server: ServerId,
    method: McpMethod,
    tool: Option<ToolName>,
    operation: &'static crate::Histogram,
    duration: &'static crate::Histogram,
    success: &'static crate::Counter,
}

impl SiteCache {
    /// An empty cache.
    pub const fn new() -> Self {
        SiteCache {
            series: OnceLock::new(),
        }
    }
}

impl Default for SiteCache {
    fn default() -> Self {
        SiteCache::new()
    }
}

pub use sites::CALL_SITES;

// linkme places the elements with `#[link_section]`, which the `unsafe_code` lint flags.
#[allow(unsafe_code)]
mod sites {
    use super::CallSite;

    /// Every instrumented function of the binary.
    #[doc(hidden)]
    #[linkme::distributed_slice]
    pub static CALL_SITES: [&'static CallSite];
}

/// Every function instrumented with `#[mcp_instrumented]` in the binary, sorted by module and name.
pub fn call_sites() -> Vec<&'static CallSite> {
    let mut sites: Vec<_> = CALL_SITES.iter().copied().collect();
    sites.sort_by_key(|s| (s.module_path, s.function, s.line));
    sites
}

/// Why a call failed, for `error.type` and the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A JSON-RPC error response with this code (`error.type` is the code as a string).
    JsonRpc(i64),
    /// The tool ran and reported failure (`isError: true`).
    ToolError,
    /// No answer in time.
    Timeout,
    /// Cancelled by the client.
    Cancelled,
    /// Anything else (`error.type` `_OTHER`).
    Other,
}

/// Implemented by error types to say how a failed call is classified. Errors that do not
/// implement it are classified [`ErrorClass::Other`].
///
/// ```
/// use only1mcp_obs::trace::{ClassifyError, ErrorClass};
///
/// enum ProxyError { BackendTimeout, Rpc { code: i64 } }
///
/// impl ClassifyError for ProxyError {
///     fn error_class(&self) -> ErrorClass {
///         match self {
///             ProxyError::BackendTimeout => ErrorClass::Timeout,
///             ProxyError::Rpc { code } => ErrorClass::JsonRpc(*code),
///         }
///     }
/// }
/// ```
pub trait ClassifyError {
    /// The class of this error.
    fn error_class(&self) -> ErrorClass;
}

impl ClassifyError for ErrorClass {
    fn error_class(&self) -> ErrorClass {
        *self
    }
}

impl ClassifyError for std::io::Error {
    fn error_class(&self) -> ErrorClass {
        match self.kind() {
            std::io::ErrorKind::TimedOut => ErrorClass::Timeout,
            _ => ErrorClass::Other,
        }
    }
}

impl ClassifyError for tokio::time::error::Elapsed {
    fn error_class(&self) -> ErrorClass {
        ErrorClass::Timeout
    }
}

/// Implemented by tool results that can report failure in-band (`isError: true`).
pub trait ToolResult {
    /// Whether the tool reported failure.
    fn is_tool_error(&self) -> bool;
}

impl ToolResult for serde_json::Value {
    /// A `CallToolResult` (or a JSON-RPC response wrapping one) with `isError: true`.
    fn is_tool_error(&self) -> bool {
        let result = self.get("result").unwrap_or(self);
        result
            .get("isError")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}

/// The outcome of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned normally.
    Success,
    /// It failed.
    Failure(ErrorClass),
}

/// `value` cut to `max` bytes (`tracing.limits.max_attribute_length`) at a character
/// boundary, marked with `…`.
pub(crate) fn bounded(value: &str, max: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    Cow::Owned(cut(value, max))
}

/// The start of `value` that fits in `max` bytes with a final `…`.
fn cut(value: &str, max: usize) -> String {
    let mut end = max.saturating_sub('…'.len_utf8()).min(value.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end])
}

/// Records the fields named in `#[mcp_instrumented(fields(..))]` on the call's span.
#[derive(Debug)]
pub struct Fields<'a> {
    span: &'a mut opentelemetry_sdk::trace::Span,
    runtime: &'a Runtime,
}

impl Fields<'_> {
    /// Records `name = value`; fields whose name matches a redaction pattern are redacted.
    pub fn record<T: ToAttribute + ?Sized>(&mut self, name: &'static str, value: &T) {
        use opentelemetry::trace::Span as _;
        if value.is_absent() {
            return;
        }
        let max = self.runtime.max_attribute_len;
        let value = if self.runtime.redactor.is_secret_field(name) {
            Value::from(REDACTED)
        } else {
            match value.to_attribute() {
                Value::String(s) if s.as_str().len() > max => {
                    Value::from(bounded(s.as_str(), max).into_owned())
                }
                other => other,
            }
        };
        self.span.set_attribute(KeyValue::new(name, value));
    }

    /// Records `name = value` formatted with `Display` (`fields(%value)`), like `tracing`'s `%`.
    pub fn record_display<T: std::fmt::Display + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.record_formatted(name, format_args!("{value}"));
    }

    /// Records `name = value` formatted with `Debug` (`fields(?value)`), like `tracing`'s `?`.
    pub fn record_debug<T: std::fmt::Debug + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.record_formatted(name, format_args!("{value:?}"));
    }

    /// Formats into at most the attribute length limit: a huge value is cut while it is being
    /// formatted, never formatted whole first. Secret-named fields are not formatted at all.
    fn record_formatted(&mut self, name: &'static str, args: std::fmt::Arguments<'_>) {
        use opentelemetry::trace::Span as _;
        let value = if self.runtime.redactor.is_secret_field(name) {
            REDACTED.to_owned()
        } else {
            bounded_format(args, self.runtime.max_attribute_len)
        };
        self.span.set_attribute(KeyValue::new(name, value));
    }
}

/// `args` formatted into at most `max` bytes, marked with `…` when cut: a huge value stops
/// being formatted at the limit instead of being formatted whole first.
pub(crate) fn bounded_format(args: std::fmt::Arguments<'_>, max: usize) -> String {
    let mut out = BoundedWriter {
        text: String::new(),
        room: max,
        cut: false,
    };
    // An error only means the limit was reached.
    let _ = std::fmt::write(&mut out, args);
    if out.cut {
        cut(&out.text, max)
    } else {
        out.text
    }
}

/// Keeps the first `room` bytes written (whole characters), then refuses the rest.
struct BoundedWriter {
    text: String,
    room: usize,
    cut: bool,
}

impl std::fmt::Write for BoundedWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let left = self.room.saturating_sub(self.text.len());
        if s.len() <= left {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = left;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        Err(std::fmt::Error)
    }
}

/// A value that can be recorded as a span attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded as a span attribute",
    note = "record one of its fields, or convert it: `fields(name = value.to_string())`"
)]
pub trait ToAttribute {
    /// The attribute value.
    fn to_attribute(&self) -> Value;

    /// Whether there is nothing to record (`None`): the attribute is left out.
    fn is_absent(&self) -> bool {
        false
    }
}

macro_rules! int_attribute {
    ($($t:ty),*) => {$(
        impl ToAttribute for $t {
            fn to_attribute(&self) -> Value {
                Value::I64(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_attribute!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToAttribute for str {
    fn to_attribute(&self) -> Value {
        runtime::with(|rt| Value::from(rt.redactor.redact(self).into_owned()))
    }
}

impl ToAttribute for String {
    fn to_attribute(&self) -> Value {
        self.as_str().to_attribute()
    }
}

impl ToAttribute for bool {
    fn to_attribute(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToAttribute for f64 {
    fn to_attribute(&self) -> Value {
        Value::F64(*self)
    }
}

impl ToAttribute for serde_json::Value {
    fn to_attribute(&self) -> Value {
        match self {
            serde_json::Value::String(s) => s.to_attribute(),
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Value::F64(n.as_f64().unwrap_or(f64::NAN)), Value::I64),
            other => other.to_string().to_attribute(),
        }
    }
}

impl<T: ToAttribute + ?Sized> ToAttribute for &T {
    fn to_attribute(&self) -> Value {
        (**self).to_attribute()
    }

    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<T: ToAttribute> ToAttribute for Option<T> {
    fn to_attribute(&self) -> Value {
        match self {
            Some(v) => v.to_attribute(),
            None => Value::from(""),
        }
    }

    fn is_absent(&self) -> bool {
        self.as_ref().is_none_or(ToAttribute::is_absent)
    }
}

/// One instrumented call in flight. Dropping it unfinished (a cancelled future) records the
/// call as cancelled.
#[derive(Debug)]
pub struct Call {
    site: &'static CallSite,
    method: McpMethod,
    tool: Option<ToolName>,
    /// A tool name a client sent that is not a label value yet: it becomes one only if the call
    /// succeeds or something else admits it meanwhile (see [`tool_label`]).
    pending_tool: Option<Box<str>>,
    server: ServerId,
    start: Instant,
    cx: Option<Context>,
    done: bool,
    /// Where its metrics go.
    sink: Sink,
    /// What the runtime in effect at the start asked of the call (see [`crate::runtime`]).
    #[cfg_attr(not(feature = "catalogue"), allow(dead_code))]
    detail: u8,
    log_calls: bool,
    exemplars: bool,
    slow_call_ms: u64,
}

/// Where instrumented calls record their metrics (see [`Runtime::with_call_metrics`]).
#[derive(Clone, Default)]
pub enum CallMetrics {
    /// The Only1MCP catalogue's families (the default, with the `catalogue` feature): the MCP
    /// semantic conventions' `mcp_{client,server}_operation_duration_seconds`, and
    /// `only1mcp_mcp_requests_total` and `only1mcp_mcp_request_duration_seconds` per backend.
    #[cfg(feature = "catalogue")]
    #[default]
    Catalogue,
    /// None: calls make spans and log lines only (the default without the `catalogue` feature).
    #[cfg_attr(not(feature = "catalogue"), default)]
    Off,
    /// A recorder of the application's own (its own families, another metrics library).
    Custom(std::sync::Arc<dyn CallRecorder>),
}

impl std::fmt::Debug for CallMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "catalogue")]
            CallMetrics::Catalogue => f.write_str("Catalogue"),
            CallMetrics::Off => f.write_str("Off"),
            CallMetrics::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Records what an instrumented call did, in metrics of the application's choosing.
///
/// ```
/// use only1mcp_obs::runtime::Runtime;
/// use only1mcp_obs::trace::{CallMetrics, CallRecorder, EndedCall, Outcome};
/// use std::sync::{Arc, Mutex};
///
/// /// Counts calls per method in a map (an application would use its own metrics library).
/// #[derive(Debug, Default)]
/// struct Counts(Mutex<Vec<(String, bool)>>);
///
/// impl CallRecorder for Counts {
///     fn record(&self, call: &EndedCall<'_>) {
///         let ok = call.outcome == Outcome::Success;
///         self.0.lock().unwrap().push((format!("{} {}", call.method, call.target.unwrap_or("")), ok));
///     }
/// }
///
/// #[only1mcp_obs::mcp_instrumented(method = "tools/call", target = name)]
/// fn call_tool(name: &str) -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// let counts = Arc::new(Counts::default());
/// let runtime = Runtime::default().with_call_metrics(CallMetrics::Custom(counts.clone())).shared();
/// {
///     let _current = runtime.enter();
///     call_tool("search").unwrap();
/// }
/// assert_eq!(*counts.0.lock().unwrap(), [("tools/call search".to_owned(), true)]);
/// ```
pub trait CallRecorder: Send + Sync + 'static {
    /// A call ended.
    fn record(&self, call: &EndedCall<'_>);
}

/// What an instrumented call did, for a [`CallRecorder`]. Its strings are what the call named:
/// bound them (or map them to a closed set) before they become label values.
#[derive(Debug, Clone)]
pub struct EndedCall<'a> {
    /// Where it was made.
    pub site: &'static CallSite,
    /// `mcp.method.name`.
    pub method: &'static str,
    /// The tool or prompt it was about, if any.
    pub target: Option<&'a str>,
    /// The backend it went to (`server_id`), if any.
    pub server: Option<&'a str>,
    /// How long it took.
    pub duration: std::time::Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// Its trace, when sampled and exemplars are on.
    pub trace_id: Option<opentelemetry::trace::TraceId>,
}

/// Where one call's metrics go, resolved when it starts (a pointer's size: a call is moved
/// into its future).
#[derive(Debug)]
enum Sink {
    /// The catalogue, under the labels resolved at the start.
    #[cfg(feature = "catalogue")]
    Catalogue,
    Off,
    Custom(Box<CustomSink>),
}

/// The sink of a call to `recorder`, keeping the names the call was made with.
#[cold]
fn custom_sink(
    recorder: &std::sync::Arc<dyn CallRecorder>,
    target: Option<&str>,
    server: Option<&str>,
) -> Sink {
    Sink::Custom(Box::new(CustomSink {
        recorder: recorder.clone(),
        target: target.map(Into::into),
        server: server.map(Into::into),
    }))
}

impl Sink {
    /// Whether the call records into the catalogue (and so resolves its labels).
    fn is_catalogue(&self) -> bool {
        #[cfg(feature = "catalogue")]
        if matches!(self, Sink::Catalogue) {
            return true;
        }
        false
    }
}

/// A call recorded by an application's [`CallRecorder`], with what it named.
#[derive(Debug)]
struct CustomSink {
    recorder: std::sync::Arc<dyn CallRecorder>,
    target: Option<Box<str>>,
    server: Option<Box<str>>,
}

impl std::fmt::Debug for dyn CallRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallRecorder")
    }
}

/// The `gen_ai_tool_name` value for tools that are not (yet) known to exist.
pub const UNKNOWN_TOOL: &str = "_unknown";

fn unknown_tool() -> ToolName {
    static UNKNOWN: OnceLock<ToolName> = OnceLock::new();
    *UNKNOWN.get_or_init(|| ToolName::new(UNKNOWN_TOOL))
}

/// The tool label of a call. A client's tool name is untrusted: on a call received (SERVER) it
/// is a label value only if it was admitted already (by a call to a backend, a successful call,
/// or [`ToolName::new`] when tools are listed); until then the call is recorded under
/// [`UNKNOWN_TOOL`], so names a client makes up can never fill the domain. A call to a backend
/// (CLIENT) names a tool the proxy chose to route, and admits it.
fn tool_label(kind: CallKind, name: &str) -> (Option<ToolName>, Option<Box<str>>) {
    match kind {
        CallKind::Client => (Some(ToolName::new(name)), None),
        CallKind::Server => match ToolName::lookup(name) {
            Some(known) => (Some(known), None),
            // Longer names could never be admitted: keep nothing of them.
            None if name.len() <= TOOL_NAME_MAX_LEN => (Some(unknown_tool()), Some(name.into())),
            None => (Some(unknown_tool()), None),
        },
    }
}

/// The catalogue labels of a call: its tool (and a client's name still waiting to be
/// admitted), and its backend. Calls that do not record into the catalogue resolve none.
#[inline]
fn catalogue_labels(
    site: &'static CallSite,
    method: McpMethod,
    target: Option<&str>,
    server: Option<&str>,
    catalogue: bool,
    detail: u8,
) -> (Option<ToolName>, Option<Box<str>>, ServerId) {
    let (tool, pending_tool) = match (method, target) {
        (McpMethod::ToolsCall, Some(name)) if catalogue && detail & PER_TOOL != 0 => {
            tool_label(site.kind, name)
        }
        _ => (None, None),
    };
    let server_id = match server {
        Some(server) if catalogue && detail & PER_BACKEND != 0 => ServerId::new(server),
        _ => self_server(),
    };
    (tool, pending_tool, server_id)
}

/// The longest tool name the `ToolName` domain admits.
const TOOL_NAME_MAX_LEN: usize = 128;

fn self_server() -> ServerId {
    static SELF: OnceLock<ServerId> = OnceLock::new();
    *SELF.get_or_init(|| ServerId::new("self"))
}

impl Call {
    /// Starts a call: reads the clock, resolves the labels, and opens the span when a tracer is
    /// installed. `server` defaults to `self` (the call was handled in this process).
    #[inline]
    pub fn start<F: FnOnce(&mut Fields<'_>)>(
        site: &'static CallSite,
        method: McpMethod,
        target: Option<&str>,
        server: Option<&str>,
        parent: Option<Context>,
        fields: F,
    ) -> Call {
        let start = Instant::now();
        let (detail, log_calls, exemplars, slow_call_ms, tracing, sink) = runtime::with(|rt| {
            let sink = match &rt.metrics {
                #[cfg(feature = "catalogue")]
                CallMetrics::Catalogue => Sink::Catalogue,
                CallMetrics::Off => Sink::Off,
                CallMetrics::Custom(recorder) => custom_sink(recorder, target, server),
            };
            let tracing = rt.tracer.is_some();
            (
                rt.detail,
                rt.log_calls,
                rt.exemplars,
                rt.slow_call_ms,
                tracing,
                sink,
            )
        });
        // Apart, so that the call without a tracer stays small.
        let cx = if tracing {
            runtime::with(|rt| {
                let tracer = rt.tracer.as_ref()?;
                Some(open_span(
                    tracer, rt, site, method, target, server, parent, fields,
                ))
            })
        } else {
            None
        };
        let (tool, pending_tool, server_id) =
            catalogue_labels(site, method, target, server, sink.is_catalogue(), detail);
        Call {
            site,
            method,
            tool,
            pending_tool,
            server: server_id,
            start,
            cx,
            done: false,
            sink,
            detail,
            log_calls,
            exemplars,
            slow_call_ms,
        }
    }

    /// The context carrying this call's span, to attach while the body runs.
    #[inline]
    pub fn context(&self) -> Option<Context> {
        self.cx.clone()
    }

    /// Makes this call's span current until the guard drops (sync bodies).
    #[inline]
    pub fn attach(&self) -> Option<ContextGuard> {
        self.cx.clone().map(Context::attach)
    }

    /// Ends the call with its outcome (once; later calls do nothing).
    #[inline]
    pub fn finish(&mut self, outcome: Outcome) {
        if !self.done {
            self.complete(outcome);
        }
    }

    #[cfg(feature = "catalogue")]
    fn operation_histogram(&self, error_type: Option<ErrorType>) -> &'static crate::Histogram {
        match self.site.kind {
            CallKind::Client => {
                MCP_CLIENT_OPERATION_DURATION.labels(self.method, error_type, self.tool)
            }
            CallKind::Server => {
                MCP_SERVER_OPERATION_DURATION.labels(self.method, error_type, self.tool)
            }
        }
    }

    #[cfg(feature = "catalogue")]
    fn resolve_success(&self) -> CachedSeries {
        CachedSeries {
            server: self.server,
            method: self.method,
            tool: self.tool,
            operation: self.operation_histogram(None),
            duration: MCP_REQUEST_DURATION.labels(self.server, self.method),
            success: MCP_REQUESTS_TOTAL.labels(self.server, self.method, RequestStatus::Success),
        }
    }

    fn complete(&mut self, outcome: Outcome) {
        self.done = true;
        if let Some(name) = self.pending_tool.take() {
            // Admitted meanwhile (the proxy routed it), or it exists since the call succeeded.
            self.tool = match (ToolName::lookup(&name), outcome) {
                (Some(known), _) => Some(known),
                (None, Outcome::Success) => Some(ToolName::new(&name)),
                (None, Outcome::Failure(_)) => self.tool,
            };
        }
        let elapsed = self.start.elapsed();
        let seconds = elapsed.as_secs_f64();
        let error = match outcome {
            Outcome::Success => None,
            Outcome::Failure(class) => Some(class),
        };
        // A sampled call's trace becomes the exemplar of what it counts.
        let trace = self
            .cx
            .as_ref()
            .filter(|_| self.exemplars)
            .and_then(|cx| crate::metrics::exemplar::sampled(cx.span().span_context()));
        match &self.sink {
            #[cfg(feature = "catalogue")]
            Sink::Catalogue => self.record_catalogue(seconds, error, trace),
            Sink::Off => {}
            Sink::Custom(custom) => custom.recorder.record(&EndedCall {
                site: self.site,
                method: self.method.as_str(),
                target: custom.target.as_deref(),
                server: custom.server.as_deref(),
                duration: elapsed,
                outcome,
                trace_id: trace,
            }),
        }
        if let Some(cx) = &self.cx {
            let span = cx.span();
            if let Some(class) = error {
                let text = error_type_text(class);
                span.set_attribute(KeyValue::new("error.type", text.clone().into_owned()));
                if let ErrorClass::JsonRpc(code) = class {
                    span.set_attribute(KeyValue::new("rpc.response.status_code", code.to_string()));
                }
                span.set_status(Status::error(text));
            }
            span.end();
        }
        let slow = seconds * 1000.0 > self.slow_call_ms as f64;
        if error.is_some() || slow || self.log_calls {
            self.log(elapsed.as_secs_f64() * 1000.0, error, slow);
        }
    }

    /// Records the call in the catalogue's families, under the labels resolved at its start
    /// (a successful call's series are resolved once per site).
    #[cfg(feature = "catalogue")]
    #[inline]
    fn record_catalogue(
        &self,
        seconds: f64,
        error: Option<ErrorClass>,
        trace: Option<opentelemetry::trace::TraceId>,
    ) {
        let cached = match error {
            None => Some(
                self.site
                    .cache
                    .series
                    .get_or_init(|| self.resolve_success()),
            ),
            Some(_) => None,
        };
        let histograms = self.detail & HISTOGRAMS != 0;
        match cached {
            Some(c)
                if c.server == self.server && c.method == self.method && c.tool == self.tool =>
            {
                if histograms {
                    c.operation.observe_with_trace(seconds, trace);
                    c.duration.observe_with_trace(seconds, trace);
                }
                c.success.inc_with_trace(1, trace);
            }
            _ => {
                if histograms {
                    let error_type = error.map(|class| ErrorType::new(&error_type_text(class)));
                    self.operation_histogram(error_type)
                        .observe_with_trace(seconds, trace);
                    MCP_REQUEST_DURATION
                        .labels(self.server, self.method)
                        .observe_with_trace(seconds, trace);
                }
                let status = error.map_or(RequestStatus::Success, status_of);
                MCP_REQUESTS_TOTAL
                    .labels(self.server, self.method, status)
                    .inc_with_trace(1, trace);
            }
        }
    }

    /// The seed's `McpLogEntry`: error on failure, warn when slow, the site's level otherwise.
    #[cold]
    fn log(&self, duration_ms: f64, error: Option<ErrorClass>, slow: bool) {
        let _attached = self.cx.clone().map(Context::attach);
        let operation = self.site.function;
        let method = self.method.as_str();
        let server_id = match &self.sink {
            Sink::Custom(custom) => custom.server.as_deref().unwrap_or("self"),
            _ => self.server.as_str(),
        };
        if let Some(class) = error {
            let error = error_type_text(class);
            tracing::error!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = false, error = %error, "MCP operation failed");
        } else if slow {
            tracing::warn!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "Slow MCP operation");
        } else {
            match self.site.level {
                CallLevel::Trace => {
                    tracing::trace!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "MCP operation completed")
                }
                CallLevel::Debug => {
                    tracing::debug!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "MCP operation completed")
                }
                CallLevel::Info => {
                    tracing::info!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "MCP operation completed")
                }
                CallLevel::Warn => {
                    tracing::warn!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "MCP operation completed")
                }
                CallLevel::Error => {
                    tracing::error!(target: "only1mcp_obs::call", operation, server_id, method, duration_ms, success = true, "MCP operation completed")
                }
            }
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.done {
            self.complete(Outcome::Failure(ErrorClass::Cancelled));
        }
    }
}

#[cfg(feature = "catalogue")]
fn status_of(class: ErrorClass) -> RequestStatus {
    match class {
        ErrorClass::ToolError => RequestStatus::ToolError,
        ErrorClass::Timeout => RequestStatus::Timeout,
        ErrorClass::Cancelled => RequestStatus::Cancelled,
        ErrorClass::JsonRpc(_) | ErrorClass::Other => RequestStatus::Error,
    }
}

/// `error.type`: the JSON-RPC code as a string, `tool_error`, `timeout`, `cancelled` or `_OTHER`.
pub fn error_type_text(class: ErrorClass) -> Cow<'static, str> {
    match class {
        ErrorClass::JsonRpc(code) => match code {
            -32700 => "-32700".into(),
            -32600 => "-32600".into(),
            -32601 => "-32601".into(),
            -32602 => "-32602".into(),
            -32603 => "-32603".into(),
            -32002 => "-32002".into(),
            other => other.to_string().into(),
        },
        ErrorClass::ToolError => "tool_error".into(),
        ErrorClass::Timeout => "timeout".into(),
        ErrorClass::Cancelled => "cancelled".into(),
        ErrorClass::Other => "_OTHER".into(),
    }
}

/// Opens the span: named `{method} {target}` for tools and prompts, else `{method}`; parented on
/// `parent` (the `_meta` context) when it is valid, with a link to the current (transport) span.
#[allow(clippy::too_many_arguments)] // each is one part of the call the span describes
fn open_span<F: FnOnce(&mut Fields<'_>)>(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    runtime: &Runtime,
    site: &'static CallSite,
    method: McpMethod,
    target: Option<&str>,
    server: Option<&str>,
    parent: Option<Context>,
    fields: F,
) -> Context {
    // Client-sized strings: cut to the configured length before they reach the span.
    let target = target.map(|t| bounded(t, runtime.max_attribute_len));
    let target = target.as_deref();
    let named_target = match method {
        McpMethod::ToolsCall | McpMethod::PromptsGet => target,
        _ => None,
    };
    let name = span_name(method, named_target);
    let (parent_cx, link) = parent_and_link(parent);
    let kind = match site.kind {
        CallKind::Client => SpanKind::Client,
        CallKind::Server => SpanKind::Server,
    };
    // Room for every attribute the call sets (the MCP ones, the site's fields, and the outcome's
    // two), so that the span's list is allocated once and never grows.
    let mut attributes = Vec::with_capacity(8 + site.fields.len());
    attributes.push(KeyValue::new("mcp.method.name", method.as_str()));
    let mut builder = SpanBuilder::from_name(name).with_kind(kind);
    builder.attributes = Some(attributes);
    if let Some(link) = link {
        builder = builder.with_links(vec![link]);
    }
    let mut span = tracer.build_with_context(builder, &parent_cx);
    use opentelemetry::trace::Span as _;
    if span.is_recording() {
        set_call_attributes(&mut span, site, method, named_target, server);
        fields(&mut Fields {
            span: &mut span,
            runtime,
        });
    }
    parent_cx.with_span(span)
}

/// `{mcp.method.name} {target}` for a tool or prompt, the method alone otherwise.
#[inline]
fn span_name(method: McpMethod, named_target: Option<&str>) -> Cow<'static, str> {
    match named_target {
        Some(t) => {
            let m = method.as_str();
            let mut name = String::with_capacity(m.len() + 1 + t.len());
            name.push_str(m);
            name.push(' ');
            name.push_str(t);
            name.into()
        }
        None => method.as_str().into(),
    }
}

/// The span's parent: `parent` when it is a valid context (with a link to the transport's
/// trace, the current one, when that is another trace), else the current context.
#[inline]
fn parent_and_link(parent: Option<Context>) -> (Context, Option<Link>) {
    let current = Context::current();
    match parent {
        Some(p) if p.span().span_context().is_valid() => {
            let transport = current.span().span_context().clone();
            let link = (transport.is_valid()
                && transport.trace_id() != p.span().span_context().trace_id())
            .then(|| Link::with_context(transport));
            (p, link)
        }
        _ => (current, None),
    }
}

/// The semantic conventions' attributes of a recording call span: the tool or prompt, the
/// backend, the function.
#[inline]
fn set_call_attributes(
    span: &mut opentelemetry_sdk::trace::Span,
    site: &'static CallSite,
    method: McpMethod,
    named_target: Option<&str>,
    server: Option<&str>,
) {
    use opentelemetry::trace::Span as _;
    match (method, named_target) {
        (McpMethod::ToolsCall, Some(t)) => {
            span.set_attribute(KeyValue::new("gen_ai.tool.name", t.to_owned()));
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        }
        (McpMethod::PromptsGet, Some(t)) => {
            span.set_attribute(KeyValue::new("gen_ai.prompt.name", t.to_owned()))
        }
        _ => {}
    }
    if let Some(server) = server {
        span.set_attribute(KeyValue::new("only1mcp.server.id", server.to_owned()));
    }
    span.set_attribute(KeyValue::new("code.function.name", site.function));
}

/// Adds to the current call from inside its body, without naming tracing or OpenTelemetry types.
///
/// ```
/// #[only1mcp_obs::mcp_instrumented(method = "tools/call", target = name)]
/// fn call_tool(name: &str) -> Result<String, std::io::Error> {
///     only1mcp_obs::call::cache_hit(false);
///     only1mcp_obs::call::tokens_used(412);
///     only1mcp_obs::call::record("cache.tier", "memory");
///     Ok(format!("{name} done"))
/// }
/// # call_tool("echo").unwrap();
/// ```
pub mod current {
    use super::ToAttribute;
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry::{Context, KeyValue};

    /// Records `key = value` on the current call's span (nothing when not sampled or outside a call).
    pub fn record<T: ToAttribute + ?Sized>(key: &'static str, value: &T) {
        Context::map_current(|cx| {
            let span = cx.span();
            if span.is_recording() {
                let value = if crate::runtime::with(|rt| rt.redactor.is_secret_field(key)) {
                    opentelemetry::Value::from(crate::log::REDACTED)
                } else {
                    value.to_attribute()
                };
                span.set_attribute(KeyValue::new(key, value));
            }
        });
    }

    /// Whether the call was answered from a cache.
    pub fn cache_hit(hit: bool) {
        record("only1mcp.cache.hit", &hit);
    }

    /// Tokens the call used.
    pub fn tokens_used(tokens: u64) {
        record("only1mcp.tokens.used", &tokens);
    }

    /// Size of the response in bytes.
    pub fn response_size(bytes: u64) {
        record("only1mcp.response.size_bytes", &bytes);
    }

    /// Adds a named event to the current call's span.
    pub fn event(name: &'static str) {
        Context::map_current(|cx| cx.span().add_event(name, Vec::new()));
    }

    /// The current trace id as 32 hex digits, if a call (or any span) is current.
    pub fn trace_id() -> Option<String> {
        Context::map_current(|cx| {
            let sc = cx.span().span_context().clone();
            sc.is_valid().then(|| crate::hex::trace_id(sc.trace_id()))
        })
    }
}
