//! Observability for Rust MCP proxies and servers.
//!
//! Declare metric families once with [`metrics!`](macro@metrics): the macro checks names, units, buckets,
//! label names and the cardinality budget at compile time, generates a typed handle per family,
//! and registers the family at link time so it is always on `/metrics`.
//!
//! ```
//! use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, McpMethod, RequestStatus, ServerId};
//!
//! // Resolve once, keep the handle: updates are one atomic add.
//! let ok = MCP_REQUESTS_TOTAL.labels(ServerId::new("github"), McpMethod::ToolsCall, RequestStatus::Success);
//! ok.inc();
//! assert!(only1mcp_obs::metrics::encode_text().contains(
//!     r#"only1mcp_mcp_requests_total{server_id="github",method="tools/call",status="success"} 1"#
//! ));
//! ```
//!
//! The [`catalogue`] module holds Only1MCP's own families; `metrics::MetricsServer` serves them
//! (with the `server` feature).

// Lets `metrics!` expand to `::only1mcp_obs::...` inside this crate too.
extern crate self as only1mcp_obs;

pub mod audit;
#[cfg(feature = "business")]
pub mod business;
pub mod catalogue;
pub mod config;
pub mod guard;
pub mod health;
mod hex;
pub mod integrations;
pub mod log;
pub mod metrics;
pub mod propagation;
pub mod rolling;
pub mod runtime;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "process")]
pub mod system;
mod telemetry;
pub mod trace;

pub use telemetry::{Observability, ObservabilityConfig, ProfilingConfig, ProfilingKind, Resolved};

pub use trace::call::current as call;

pub use metrics::{
    Counter, DomainDesc, DomainKind, FamilyDesc, Gauge, Histogram, LabelDesc, LabelValue,
    MarksFailure, MetricKind, Objective,
};

/// Derives [`LabelValue`] for a fieldless enum, making it a closed label domain.
///
/// Each variant's label value is its name in snake_case, or `#[label(value = "...")]`.
/// `#[label(error)]` marks values that mean failure: generated error-rate alerts select them.
///
/// ```
/// use only1mcp_obs::LabelValue;
///
/// #[derive(Clone, Copy, LabelValue)]
/// enum Outcome {
///     Hit,
///     #[label(value = "miss")]
///     CacheMiss,
///     #[label(error)]
///     Failed,
/// }
///
/// assert_eq!(Outcome::CacheMiss.as_str(), "miss");
/// assert_eq!(<Outcome as LabelValue>::CARDINALITY, 3);
/// assert_eq!(Outcome::ALL.len(), 3);
/// ```
pub use only1mcp_obs_macros::LabelValue;

/// Declares metric families, checked at compile time.
///
/// ```
/// use only1mcp_obs::{LabelValue, metrics};
///
/// /// How a cache lookup ended.
/// #[derive(Clone, Copy, LabelValue)]
/// pub enum Lookup { Hit, Miss }
///
/// metrics! {
///     /// A tenant of the proxy; at most 16 are tracked, the rest are counted as `_other`.
///     pub dynamic Tenant { max: 16, overflow: "_other" }
///
///     /// Cache lookups.
///     pub counter CACHE_LOOKUPS = "demo_cache_lookups_total" {
///         labels: { tenant: Tenant, outcome: Lookup },
///     }
///
///     /// Size of cached responses.
///     pub histogram RESPONSE_SIZE = "demo_cached_response_size_bytes" {
///         unit: bytes,
///         buckets: [256.0, 1024.0, 4096.0, 16384.0],
///         labels: { kind: ["tool_result", "resource"] },
///     }
/// }
///
/// fn main() {
///     let hits = CACHE_LOOKUPS.labels(Tenant::new("acme"), Lookup::Hit);
///     hits.inc();
///     RESPONSE_SIZE.labels(ResponseSizeKind::ToolResult).observe(900.0);
///     assert_eq!(hits.get(), 1.0);
/// }
/// ```
///
/// # Items
///
/// - `counter`, `gauge`, `histogram`: `VIS KIND IDENT = "prometheus_name" { options }`, with a
///   `///` doc comment that becomes the HELP text. `IDENT` is the static typed handle; its type
///   is `IDENT` in CamelCase (`CACHE_LOOKUPS` → `CacheLookups`), with a `labels(..)` method taking
///   one typed value per label, in order, and returning the series.
/// - `dynamic Name { max: N, overflow: "value", max_len: BYTES }`: a bounded dynamic label domain.
///   `Name::new(&str)` admits up to `max` distinct values of at most `max_len` bytes (default 128);
///   every other value becomes `overflow`, and each series resolved with it is counted in
///   `only1mcp_obs_label_overflow_total{metric,label}`.
///
/// # Options
///
/// - `labels: { name: Domain, .. }`: `Domain` is a type implementing [`LabelValue`] (a derived
///   enum, a `dynamic` domain, or `Option<_>` of either for a label that may be absent) or an inline
///   list `["a", "b"]`, which generates an enum named after the family and label
///   (`kind` of `RESPONSE_SIZE` → `ResponseSizeKind`). A label whose name contains a word that
///   usually has one value per request, user or host (`user`, `customer`, `session`, `email`,
///   `ip`, `url`, `path`, `uuid`, `token`, ... as in `user_email` or `customer_ip`), or an `id`
///   after a per-request word (`request_id`, `client_id`, `order_id`, ...), is refused unless
///   marked `#[allow_high_cardinality(reason = "..")]`.
/// - `unit: seconds` (or `bytes`, `ratio`, `percent`, `dollars`, ...): the name must end in it.
/// - `buckets: [..]`: histograms only; finite, strictly increasing literals.
/// - `budget: N`: the most series the family may put on the page (default 1000), checked when
///   the crate compiles: the label domains' sizes multiplied together, times `bounds + 3` for a
///   histogram (each label set writes a line per bucket bound, `+Inf`, `_sum` and `_count`).
///   The error lists every factor.
///
/// # Compile-time checks
///
/// Snake-case names; `_total` on counters only; the unit suffix; no `__` prefix; no `_bucket`,
/// `_sum`, `_count` suffix; base units (`seconds`, not `milliseconds`); bucket lists; label names
/// (syntax, `le`, `quantile`, `__*`, duplicates, high-cardinality names); the budget; duplicate
/// metric names within the crate; unknown or repeated options. Every error points at your tokens.
#[doc(inline)]
pub use only1mcp_obs_macros::metrics;

#[doc(hidden)]
pub mod __private {
    pub use crate::metrics::private::*;
    pub use crate::trace::call::Call;
    pub use crate::trace::expand_support::*;
    pub use crate::trace::fields::Fields;
    pub use crate::trace::site::{CALL_SITES, CallKind, CallLevel, CallSite, SiteCache};
    pub use linkme;
    pub use opentelemetry::trace::FutureExt;
}

/// Instruments an MCP handler, or a call to a backend MCP server: one span per call following
/// the OpenTelemetry MCP semantic conventions, the call's duration in
/// `mcp_{server,client}_operation_duration_seconds` and `only1mcp_mcp_request_duration_seconds`,
/// `only1mcp_mcp_requests_total` with its status, and the outcome classified from the return
/// value. Arguments are never recorded unless named in `fields(..)`.
///
/// ```
/// use only1mcp_obs::mcp_instrumented;
/// use only1mcp_obs::trace::{ClassifyError, ErrorClass};
///
/// #[derive(Debug)]
/// struct RpcError { code: i64 }
///
/// impl ClassifyError for RpcError {
///     fn error_class(&self) -> ErrorClass { ErrorClass::JsonRpc(self.code) }
/// }
///
/// /// The aggregator forwarding a `tools/call` to a backend.
/// #[mcp_instrumented(method = "tools/call", target = tool, kind = client, server_id = backend, fields(attempt = 1))]
/// async fn forward(backend: &str, tool: &str, mut params: serde_json::Value) -> Result<serde_json::Value, RpcError> {
///     only1mcp_obs::propagation::inject_current_meta(&mut params); // the trace continues in the backend
///     only1mcp_obs::call::cache_hit(false);
///     Ok(serde_json::json!({ "content": [] }))
/// }
///
/// /// A server: methods are inferred from rmcp-style handler names.
/// struct Backend;
///
/// #[mcp_instrumented]
/// impl Backend {
///     // `parent` continues the caller's trace from `params._meta`.
///     #[mcp_instrumented(method = "tools/call", target = name, parent = &params)]
///     async fn call_tool(&self, name: &str, params: serde_json::Value) -> Result<String, RpcError> {
///         if name.is_empty() { Err(RpcError { code: -32602 }) } else { Ok(name.to_owned()) }
///     }
///
///     async fn list_tools(&self) -> Vec<String> { vec!["search".into()] } // `tools/list`
///
///     #[mcp_instrumented(skip)]
///     fn helper(&self) {}
/// }
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async { forward("github", "search", serde_json::json!({})).await.unwrap(); });
/// ```
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `method = "tools/call"` | the MCP method, checked at compile time (or any expression giving a `&str` or `McpMethod`); inferred from rmcp handler names (`call_tool`, `list_tools`, `read_resource`, ...) when absent |
/// | `target = expr` | the tool or prompt name (`&str`, `String`, `Option<&str>`): the span is named `tools/call {target}` |
/// | `kind = client \| server` | a call to a backend, or a call received (default) |
/// | `server_id = expr` | the backend's id, the `server_id` label (`self` when absent) |
/// | `fields(arg, name = expr, "dotted.key" = expr)` | span attributes: arguments by name, computed values, or semantic-convention keys such as `"jsonrpc.request.id"`; `None` values are left out; secrets by name are redacted; `..value` records every attribute of a [`SpanFields`](crate::trace::SpanFields) value |
/// | `level = info` | level of the line logged for a successful call when `logging.log_calls` is on |
/// | `parent = expr` | the parent context: a request's `params` (read from `_meta`), a `Context`, or headers; the current span becomes a link |
/// | `skip` | on a method of an instrumented `impl`: leave it alone |
///
/// Works on free functions and methods, sync and `async`, whole `impl` blocks, and with
/// `#[async_trait]` in either order. The error type of a `Result` is classified by
/// [`ClassifyError`](trace::ClassifyError) (`_OTHER` when it does not implement it); an `Ok` value
/// implementing [`ToolResult`](trace::ToolResult) with `isError: true` counts as `tool_error`.
/// A future dropped before it completes is recorded as `cancelled`.
pub use only1mcp_obs_macros::mcp_instrumented;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
