//! Tracing: an OpenTelemetry tracer provider with OTLP export (gRPC or HTTP/protobuf), the
//! samplers, a bounded batch processor that counts what it drops, and the per-call runtime of
//! `#[mcp_instrumented]`.

#[cfg(feature = "tracing-bridge")]
pub mod bridge;
pub(crate) mod call;
mod config;
#[doc(hidden)]
pub mod expand_support;
pub(crate) mod own_metrics;
mod processor;
mod sampler;

pub use call::{
    Call, CallKind, CallLevel, CallSite, ClassifyError, ErrorClass, Fields, Outcome, ToAttribute,
    ToolResult, UNKNOWN_TOOL, call_sites, error_type_text,
};
pub use config::{
    ExporterConfig, OtlpProtocol, SamplingConfig, SamplingRule, SamplingStrategy, SpanLimitsConfig,
    TracingConfig,
};
pub use own_metrics::{SPANS_DROPPED, SPANS_EXPORTED, SpanDropReason};
pub use processor::{BatchSettings, BoundedBatchProcessor, ExportDriver};
pub use sampler::RuleSampler;

use crate::log::Redactor;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::Duration;

/// The tracer `#[mcp_instrumented]` uses; none until a provider is installed.
static TRACER: RwLock<Option<SdkTracer>> = RwLock::new(None);
static REDACTOR: LazyLock<RwLock<Arc<Redactor>>> =
    LazyLock::new(|| RwLock::new(Arc::new(Redactor::default())));

/// Bumped whenever the tracer changes, so per-thread copies know to refresh.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// Whether a tracer is installed: with tracing off, a call costs one load here.
static ENABLED: AtomicBool = AtomicBool::new(false);

pub(crate) mod tracer {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        // A per-thread copy of the tracer: the hot path reads an atomic and a thread-local
        // instead of taking the global lock.
        static LOCAL: RefCell<(u64, Option<SdkTracer>)> = const { RefCell::new((u64::MAX, None)) };
    }

    /// Runs `f` with the installed tracer, if any.
    #[inline]
    pub(crate) fn with<R>(f: impl FnOnce(&SdkTracer) -> R) -> Option<R> {
        if !ENABLED.load(Relaxed) {
            return None;
        }
        let generation = GENERATION.load(Acquire);
        let mut f = Some(f);
        let local = LOCAL.try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            if local.0 != generation {
                *local = (
                    generation,
                    TRACER
                        .read()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone(),
                );
            }
            Some(match (&local.1, f.take()) {
                (Some(tracer), Some(f)) => Some(f(tracer)),
                _ => None,
            })
        });
        match local {
            Ok(Some(result)) => result,
            // Re-entered (a recorded field that makes an instrumented call) or the thread is
            // ending: use the global tracer.
            _ => TRACER
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .and_then(|t| f.take().map(|f| f(t))),
        }
    }
}

/// The redactor applied to recorded fields.
pub(crate) fn redactor() -> Arc<Redactor> {
    REDACTOR
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

pub(crate) fn set_redactor(redactor: Redactor) {
    *REDACTOR.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(redactor);
}

/// Logs every successful instrumented call (at its site's level) when `log_calls`, and calls
/// slower than `slow_call_ms` at warn; failures are always logged at error.
pub fn set_call_logging(log_calls: bool, slow_call_ms: u64) {
    call::LOG_CALLS.store(log_calls, std::sync::atomic::Ordering::Relaxed);
    call::SLOW_CALL_MS.store(slow_call_ms, std::sync::atomic::Ordering::Relaxed);
}

/// Which optional labels and families instrumented calls record (`metrics.detailed`): the
/// tool name on operation durations, the backend as `server_id` (else `self`), and histograms.
pub fn set_detail(per_tool: bool, per_backend: bool, histograms: bool) {
    let bits = u8::from(per_tool) * call::PER_TOOL
        + u8::from(per_backend) * call::PER_BACKEND
        + u8::from(histograms) * call::HISTOGRAMS;
    call::DETAIL.store(bits, std::sync::atomic::Ordering::Relaxed);
}

/// Makes `provider` the source of the spans `#[mcp_instrumented]` opens, and the global
/// OpenTelemetry provider. Use it to bring your own provider (tests use an in-memory exporter).
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// let provider = SdkTracerProvider::builder().build();
/// only1mcp_obs::trace::set_provider(&provider);
/// ```
pub fn set_provider(provider: &SdkTracerProvider) {
    let scope = InstrumentationScope::builder("only1mcp-obs")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    *TRACER.write().unwrap_or_else(PoisonError::into_inner) =
        Some(provider.tracer_with_scope(scope));
    GENERATION.fetch_add(1, Release);
    ENABLED.store(true, Relaxed);
    opentelemetry::global::set_tracer_provider(provider.clone());
}

/// Stops opening spans (metrics and logs go on).
pub fn clear_provider() {
    *TRACER.write().unwrap_or_else(PoisonError::into_inner) = None;
    GENERATION.fetch_add(1, Release);
    ENABLED.store(false, Relaxed);
}

/// The installed tracing pipeline; [`TracingHandle::shutdown`] flushes it.
#[derive(Debug)]
pub struct TracingHandle {
    provider: SdkTracerProvider,
}

impl TracingHandle {
    /// The provider, for other libraries' spans.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Exports everything queued now.
    pub fn flush(&self) -> OTelSdkResult {
        self.provider.force_flush()
    }

    /// Flushes queued spans (waiting at most `timeout`) and stops exporting.
    pub fn shutdown(self, timeout: Duration) -> OTelSdkResult {
        clear_provider();
        self.provider.shutdown_with_timeout(timeout)
    }
}

/// Installs tracing from `config`: resource, sampler, OTLP exporter (when an endpoint is
/// configured; with none, spans are made for their ids but nothing is exported and nothing
/// blocks), and the W3C propagator as the global one.
pub fn install(config: &TracingConfig) -> Result<TracingHandle, crate::config::ConfigError> {
    config.validate()?;
    opentelemetry::global::set_text_map_propagator(crate::propagation::new_propagator());
    crate::propagation::set_formats(&config.propagation.formats);
    let resource = config.resource();
    let limits = &config.limits;
    call::MAX_ATTRIBUTE_LEN.store(limits.max_attribute_length, Relaxed);
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(config.sampling.sampler())
        .with_max_attributes_per_span(limits.max_attributes_per_span)
        .with_max_events_per_span(limits.max_events_per_span)
        .with_resource(resource.clone());
    if let (true, Some(endpoint)) = (config.enabled, config.exporter.url()) {
        let protocol = config.exporter.protocol;
        let timeout = config.exporter.timeout();
        let processor =
            BoundedBatchProcessor::start(config.batch_settings(), resource, move || {
                config::build_exporter(protocol, &endpoint, timeout)
            })
            .map_err(|e| crate::config::ConfigError::runtime("tracing.exporter", &e.to_string()))?;
        builder = builder.with_span_processor(processor);
    }
    let provider = builder.build();
    if config.enabled {
        set_provider(&provider);
    }
    Ok(TracingHandle { provider })
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
