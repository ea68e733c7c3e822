//! A library that instruments its MCP handlers with `only1mcp-obs` built with
//! `default-features = false`: `#[mcp_instrumented]` makes the spans of the OpenTelemetry MCP
//! semantic conventions, and each call is counted in this crate's own family, declared with
//! `metrics!`. None of the Only1MCP families is compiled in or registered, no HTTP server or
//! OTLP transport is linked: the application brings its own tracer provider and serves
//! [`only1mcp_obs::metrics::encode_text`] where it likes.
//!
//! ```
//! use only1mcp_obs_minimal::{echo, runtime};
//!
//! let _current = runtime(None).enter();
//! assert_eq!(echo("hello").unwrap(), "hello");
//! let page = only1mcp_obs::metrics::encode_text();
//! assert!(page.contains(r#"minimal_calls_total{method="tools/call",outcome="success"} 1"#));
//! ```

use only1mcp_obs::runtime::Runtime;
use only1mcp_obs::trace::{CallMetrics, CallRecorder, EndedCall, Outcome};
use only1mcp_obs::{LabelValue, mcp_instrumented, metrics};
use std::sync::Arc;

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum CallOutcome {
    /// It returned a result.
    Success,
    /// It failed.
    #[label(error)]
    Failure,
}

/// The MCP methods this library serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum Method {
    /// `tools/call`.
    #[label(value = "tools/call")]
    ToolsCall,
    /// Any other method.
    #[label(value = "_other")]
    Other,
}

metrics! {
    /// Calls this library handled, by method and outcome.
    pub counter CALLS_TOTAL = "minimal_calls_total" {
        labels: { method: Method, outcome: CallOutcome },
    }
}

/// Counts every instrumented call in [`CALLS_TOTAL`].
#[derive(Debug)]
pub struct Counted;

impl CallRecorder for Counted {
    fn record(&self, call: &EndedCall<'_>) {
        let method = match call.method {
            "tools/call" => Method::ToolsCall,
            _ => Method::Other,
        };
        let outcome = match call.outcome {
            Outcome::Success => CallOutcome::Success,
            Outcome::Failure(_) => CallOutcome::Failure,
        };
        CALLS_TOTAL.labels(method, outcome).inc();
    }
}

/// The runtime of this library: calls counted by [`Counted`], spans made by `provider` when
/// there is one.
pub fn runtime(provider: Option<&opentelemetry_sdk::trace::SdkTracerProvider>) -> Arc<Runtime> {
    let runtime = Runtime::default().with_call_metrics(CallMetrics::Custom(Arc::new(Counted)));
    match provider {
        Some(provider) => runtime.with_provider(provider).shared(),
        None => runtime.shared(),
    }
}

/// A tool that answers with its argument, or fails on an empty one.
#[mcp_instrumented(method = "tools/call", target = "echo")]
pub fn echo(text: &str) -> Result<String, std::io::Error> {
    if text.is_empty() {
        return Err(std::io::Error::other("nothing to echo"));
    }
    Ok(text.to_owned())
}
