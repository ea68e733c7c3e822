//! The interface between a call and the metrics it records: the catalogue by default, none, or
//! the application's own recorder.

use super::outcome::Outcome;
use super::site::CallSite;

/// Where instrumented calls record their metrics (see [`Runtime::with_call_metrics`](crate::runtime::Runtime::with_call_metrics)).
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

impl std::fmt::Debug for dyn CallRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallRecorder")
    }
}
