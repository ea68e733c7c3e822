//! What `#[mcp_instrumented]` expands to: one [`Call`] per invocation, which opens the span,
//! times the call, classifies its outcome and records the metrics.

use crate::LabelValue as _;
#[cfg(feature = "catalogue")]
use crate::catalogue::{
    ErrorType, MCP_CLIENT_OPERATION_DURATION, MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL,
    MCP_SERVER_OPERATION_DURATION, RequestStatus,
};
use crate::catalogue::{McpMethod, ServerId, ToolName};
#[cfg(feature = "catalogue")]
use crate::runtime::HISTOGRAMS;
use crate::runtime::{self, PER_BACKEND, PER_TOOL, Runtime};
use opentelemetry::trace::{Link, SpanBuilder, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, ContextGuard, KeyValue};
use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

use super::fields::{Fields, bounded};
use super::outcome::{ErrorClass, Outcome, error_type_text};
use super::recorder::{CallMetrics, CallRecorder, EndedCall};
#[cfg(feature = "catalogue")]
use super::site::CachedSeries;
use super::site::{CallKind, CallLevel, CallSite};

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
#[inline]
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
                let about = About {
                    site,
                    method,
                    target,
                    server,
                };
                Some(open_span(tracer, rt, about, parent, fields))
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
        let end = Instant::now();
        let elapsed = end.saturating_duration_since(self.start);
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
            Sink::Catalogue => self.record_catalogue(seconds, error, trace.map(|t| (t, end))),
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
        trace: crate::metrics::exemplar::Sampled,
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
                    c.operation.observe_sampled(seconds, trace);
                    c.duration.observe_sampled(seconds, trace);
                }
                c.success.inc_sampled(1, trace);
            }
            _ => {
                if histograms {
                    let error_type = error.map(|class| ErrorType::new(&error_type_text(class)));
                    self.operation_histogram(error_type)
                        .observe_sampled(seconds, trace);
                    MCP_REQUEST_DURATION
                        .labels(self.server, self.method)
                        .observe_sampled(seconds, trace);
                }
                let status = error.map_or(RequestStatus::Success, status_of);
                MCP_REQUESTS_TOTAL
                    .labels(self.server, self.method, status)
                    .inc_sampled(1, trace);
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

/// What a call is about, as its site and its arguments name it: what its span describes.
#[derive(Clone, Copy)]
struct About<'a> {
    site: &'static CallSite,
    method: McpMethod,
    target: Option<&'a str>,
    server: Option<&'a str>,
}

/// Opens the span: named `{method} {target}` for tools and prompts, else `{method}`; parented on
/// `parent` (the `_meta` context) when it is valid, with a link to the current (transport) span.
fn open_span<F: FnOnce(&mut Fields<'_>)>(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    runtime: &Runtime,
    about: About<'_>,
    parent: Option<Context>,
    fields: F,
) -> Context {
    let About {
        site,
        method,
        target,
        server,
    } = about;
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
    use crate::trace::fields::ToAttribute;
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
