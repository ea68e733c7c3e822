//! Tracing: an OpenTelemetry tracer provider with OTLP export (gRPC or HTTP/protobuf), the
//! samplers, a bounded batch processor that counts what it drops, and the per-call runtime of
//! `#[mcp_instrumented]`.

#[cfg(feature = "tracing-bridge")]
pub mod bridge;
pub(crate) mod call;
mod config;
#[doc(hidden)]
pub mod expand_support;
pub(crate) mod fields;
pub(crate) mod outcome;
pub(crate) mod own_metrics;
mod processor;
pub(crate) mod recorder;
mod sampler;
pub(crate) mod site;

pub use call::{Call, UNKNOWN_TOOL};
pub use config::{
    ExporterConfig, ExporterError, OtlpProtocol, PropagationConfig, PropagationFormat,
    SamplingConfig, SamplingRule, SamplingStrategy, SpanLimitsConfig, TracingConfig,
};
pub use fields::{Fields, SpanFields, ToAttribute};
pub use outcome::{ClassifyError, ErrorClass, Outcome, ToolResult, error_type_text};
pub use own_metrics::{SPANS_DROPPED, SPANS_EXPORTED, SpanDropReason};
pub use processor::{BatchSettings, BoundedBatchProcessor, ExportDriver};
pub use recorder::{CallMetrics, CallRecorder, EndedCall};
pub use sampler::RuleSampler;
pub use site::{CallKind, CallLevel, CallSite, call_sites};

use crate::runtime::{self, Runtime};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::Arc;
use std::time::Duration;

/// Logs every successful instrumented call (at its site's level) when `log_calls`, and calls
/// slower than `slow_call_ms` at warn; failures are always logged at error. Changes the
/// process-wide [`Runtime`].
pub fn set_call_logging(log_calls: bool, slow_call_ms: u64) {
    runtime::update(|rt| {
        rt.log_calls = log_calls;
        rt.slow_call_ms = slow_call_ms;
    });
}

/// Which optional labels and families instrumented calls record (`metrics.detailed`): the
/// tool name on operation durations, the backend as `server_id` (else `self`), and histograms.
/// Changes the process-wide [`Runtime`].
pub fn set_detail(per_tool: bool, per_backend: bool, histograms: bool) {
    let detail = Runtime::default()
        .with_detail(per_tool, per_backend, histograms)
        .detail;
    runtime::update(|rt| rt.detail = detail);
}

/// Makes `provider` the source of the spans `#[mcp_instrumented]` opens (in the process-wide
/// [`Runtime`]), and the global OpenTelemetry provider. Use it to bring your own provider; to
/// give one to a thread or a future only, see [`Runtime::enter`].
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// let provider = SdkTracerProvider::builder().build();
/// only1mcp_obs::trace::set_provider(&provider);
/// ```
pub fn set_provider(provider: &SdkTracerProvider) {
    let tracer = Runtime::default().with_provider(provider).tracer;
    runtime::update(|rt| rt.tracer = tracer);
    opentelemetry::global::set_tracer_provider(provider.clone());
}

/// Stops opening spans (metrics and logs go on).
pub fn clear_provider() {
    runtime::update(|rt| rt.tracer = None);
}

/// A tracing pipeline, installed ([`install`]) or not ([`build`]); [`TracingHandle::shutdown`]
/// flushes it.
#[derive(Debug)]
pub struct TracingHandle {
    provider: SdkTracerProvider,
    /// The runtime of this pipeline: its tracer (when tracing is enabled), attribute limit and
    /// propagation formats, on the defaults for the rest.
    runtime: Arc<Runtime>,
    /// Whether it is the process-wide tracer, which shutting it down clears.
    pub(crate) installed: bool,
}

impl TracingHandle {
    /// The provider, for other libraries' spans.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// This pipeline's [`Runtime`], to make it current for a thread ([`Runtime::enter`]) or a
    /// future ([`WithRuntime`](crate::runtime::WithRuntime)) without installing it for the
    /// whole process: two pipelines then trace side by side, as tests that each bring a trace
    /// backend do.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.clone()
    }

    /// Exports everything queued now.
    pub fn flush(&self) -> OTelSdkResult {
        self.provider.force_flush()
    }

    /// Flushes queued spans (waiting at most `timeout`) and stops exporting.
    pub fn shutdown(self, timeout: Duration) -> OTelSdkResult {
        if self.installed {
            clear_provider();
        }
        self.provider.shutdown_with_timeout(timeout)
    }
}

/// Installs tracing from `config`: resource, sampler, OTLP exporter (when an endpoint is
/// configured; with none, spans are made for their ids but nothing is exported and nothing
/// blocks), and the W3C propagator as the global one. The tracer, the attribute limit and the
/// propagation formats go into the process-wide [`Runtime`].
pub fn install(config: &TracingConfig) -> Result<TracingHandle, crate::config::ConfigError> {
    let mut handle = build(config)?;
    handle.installed = true;
    let baggage = config.propagation.baggage();
    let max = config.limits.max_attribute_length;
    if config.enabled {
        set_provider(&handle.provider);
    }
    runtime::update(|rt| {
        rt.baggage = baggage;
        rt.max_attribute_len = max;
    });
    Ok(handle)
}

/// The tracing pipeline of `config`, installed nowhere (see [`install`]): its spans are made
/// only where its [`TracingHandle::runtime`] is current. The W3C propagator becomes the global
/// one.
///
/// ```
/// use only1mcp_obs::trace::{TracingConfig, build};
///
/// #[only1mcp_obs::mcp_instrumented(method = "ping")]
/// fn ping() {}
///
/// let tracing = build(&TracingConfig::default()).unwrap();
/// let runtime = tracing.runtime();
/// let _current = runtime.enter(); // this thread's calls use this pipeline
/// ping();
/// ```
pub fn build(config: &TracingConfig) -> Result<TracingHandle, crate::config::ConfigError> {
    config.validate()?;
    opentelemetry::global::set_text_map_propagator(crate::propagation::new_propagator());
    let resource = config.resource();
    let limits = &config.limits;
    let builder = SdkTracerProvider::builder()
        .with_sampler(config.sampling.sampler())
        .with_max_attributes_per_span(limits.max_attributes_per_span)
        .with_max_events_per_span(limits.max_events_per_span)
        .with_resource(resource.clone());
    let builder = match (config.enabled, config.exporter.url()) {
        (true, Some(endpoint)) => with_exporter(builder, config, resource, endpoint)?,
        _ => builder,
    };
    let provider = builder.build();
    let runtime = Runtime::default().with_tracing(config);
    let runtime = if config.enabled {
        runtime.with_provider(&provider)
    } else {
        runtime
    };
    Ok(TracingHandle {
        provider,
        runtime: runtime.shared(),
        installed: false,
    })
}

/// `builder` exporting to `endpoint` over OTLP, through the bounded batch processor.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn with_exporter(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    config: &TracingConfig,
    resource: Resource,
    endpoint: String,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, crate::config::ConfigError> {
    let protocol = config.exporter.protocol;
    let timeout = config.exporter.timeout();
    let processor = BoundedBatchProcessor::start(config.batch_settings(), resource, move || {
        config::build_exporter(protocol, &endpoint, timeout)
    })
    .map_err(|e| crate::config::ConfigError::runtime("tracing.exporter", &e.to_string()))?;
    Ok(builder.with_span_processor(processor))
}

/// Built without any OTLP transport: an endpoint cannot be exported to (validation says so
/// first, naming the feature).
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
fn with_exporter(
    _builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    config: &TracingConfig,
    _resource: Resource,
    endpoint: String,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, crate::config::ConfigError> {
    Err(crate::config::ConfigError::value(
        "tracing.exporter.endpoint",
        &endpoint,
        &format!(
            "this build has no OTLP transport for {:?}: enable the cargo feature `otlp-grpc` or `otlp-http`",
            config.exporter.protocol
        ),
    ))
}

/// The resource of `config`, for users who build their own provider.
pub fn resource(config: &TracingConfig) -> Resource {
    config.resource()
}

/// A short, stable digest of an identifier that must not be exported as is (a session id is a
/// credential for its session): 16 hex digits, the same for the same input within a build, so
/// spans of one session still correlate.
///
/// ```
/// let a = only1mcp_obs::trace::digest("3f1c2d9e-session");
/// assert_eq!(a.len(), 16);
/// assert_eq!(a, only1mcp_obs::trace::digest("3f1c2d9e-session"));
/// assert!(!a.contains("session"));
/// ```
pub fn digest(id: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    id.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
