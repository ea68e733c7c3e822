//! The settings instrumented code reads when it runs, as one value: the tracer, the redactor,
//! call logging, which labels calls record, the span attribute limit, exemplars and the
//! propagation formats.
//!
//! [`Observability::install`](crate::Observability::install) builds it from the resolved
//! configuration and replaces the process-wide value as a whole; every instrumented call, audit
//! record, log line and bridged span reads the value in effect when it runs, so nothing depends
//! on the order things were opened in. Like a `tracing` subscriber, a value can also be made
//! the current one for a thread ([`Runtime::enter`]) or a future ([`WithRuntime`]): code run
//! that way sees it instead of the process-wide one, so tests that each bring a tracer need no
//! lock between them.
//!
//! ```
//! use only1mcp_obs::runtime::Runtime;
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//!
//! #[only1mcp_obs::mcp_instrumented(method = "ping")]
//! fn ping() {}
//!
//! let exporter = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder()
//!     .with_simple_exporter(exporter.clone())
//!     .build();
//! let runtime = Runtime::default().with_provider(&provider).shared();
//! {
//!     let _current = runtime.enter();
//!     ping();
//! }
//! ping(); // outside: the process-wide value (no tracer), so no span
//! let spans = exporter.get_finished_spans().unwrap();
//! assert_eq!(spans.len(), 1);
//! assert_eq!(spans[0].name, "ping");
//! ```

use crate::log::Redactor;
use crate::trace::TracingConfig;
use crate::trace::recorder::CallMetrics;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll};

/// Record `gen_ai_tool_name` on operation durations.
pub(crate) const PER_TOOL: u8 = 1;
/// Record the backend as `server_id` (else `self`).
pub(crate) const PER_BACKEND: u8 = 2;
/// Record durations in histograms.
pub(crate) const HISTOGRAMS: u8 = 4;

/// What instrumented code reads when it runs (see the module documentation).
#[derive(Debug, Clone)]
pub struct Runtime {
    pub(crate) tracer: Option<SdkTracer>,
    pub(crate) redactor: Arc<Redactor>,
    pub(crate) log_calls: bool,
    pub(crate) slow_call_ms: u64,
    pub(crate) detail: u8,
    pub(crate) max_attribute_len: usize,
    pub(crate) exemplars: bool,
    pub(crate) baggage: bool,
    pub(crate) metrics: CallMetrics,
}

impl Default for Runtime {
    /// No tracer, the default redactor, failures and slow calls (over 5 s) logged, calls
    /// recorded in the catalogue with every label and histogram, span strings cut at 1024 bytes,
    /// exemplars on, baggage carried.
    fn default() -> Self {
        Runtime {
            tracer: None,
            redactor: Arc::new(Redactor::default()),
            log_calls: false,
            slow_call_ms: 5000,
            detail: PER_TOOL | PER_BACKEND | HISTOGRAMS,
            max_attribute_len: 1024,
            exemplars: true,
            baggage: true,
            metrics: CallMetrics::default(),
        }
    }
}

impl Runtime {
    /// The settings of `config` (its tracer comes from [`Runtime::with_provider`]).
    pub fn from_config(config: &crate::ObservabilityConfig) -> Self {
        let detail = &config.metrics.detailed;
        Runtime::default()
            .with_redactor(config.logging.redact.redactor())
            .with_call_logging(config.logging.log_calls, config.logging.slow_call_ms)
            .with_detail(detail.per_tool, detail.per_backend, detail.histograms)
            .with_tracing(&config.tracing)
            .with_exemplars(config.metrics.exemplars)
    }

    /// Spans come from `provider`.
    pub fn with_provider(mut self, provider: &SdkTracerProvider) -> Self {
        let scope = InstrumentationScope::builder("only1mcp-obs")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        self.tracer = Some(provider.tracer_with_scope(scope));
        self
    }

    /// No spans (metrics and logs go on).
    pub fn without_tracer(mut self) -> Self {
        self.tracer = None;
        self
    }

    /// Recorded fields, audit details and log lines are redacted with `redactor`.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = Arc::new(redactor);
        self
    }

    /// Every successful call is logged when `log_calls`, calls slower than `slow_call_ms` at
    /// warn; failures always at error.
    pub fn with_call_logging(mut self, log_calls: bool, slow_call_ms: u64) -> Self {
        self.log_calls = log_calls;
        self.slow_call_ms = slow_call_ms;
        self
    }

    /// Which optional labels and families calls record (`metrics.detailed`): the tool name on
    /// operation durations, the backend as `server_id` (else `self`), and histograms.
    pub fn with_detail(mut self, per_tool: bool, per_backend: bool, histograms: bool) -> Self {
        self.detail = u8::from(per_tool) * PER_TOOL
            + u8::from(per_backend) * PER_BACKEND
            + u8::from(histograms) * HISTOGRAMS;
        self
    }

    /// The span settings of `config`: strings on spans are cut at
    /// `tracing.limits.max_attribute_length` bytes, and W3C baggage is carried as well as the
    /// trace context when `tracing.propagation.formats` lists it.
    pub fn with_tracing(mut self, config: &TracingConfig) -> Self {
        self.max_attribute_len = config.limits.max_attribute_length;
        self.baggage = config.propagation.baggage();
        self
    }

    /// Sampled calls' trace ids become exemplars of what they count (`metrics.exemplars`).
    pub fn with_exemplars(mut self, on: bool) -> Self {
        self.exemplars = on;
        self
    }

    /// Where instrumented calls record their metrics: the Only1MCP catalogue (the default),
    /// nowhere, or a [`CallRecorder`](crate::trace::CallRecorder) of the application's own.
    pub fn with_call_metrics(mut self, metrics: CallMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Whether spans are made.
    pub fn is_tracing(&self) -> bool {
        self.tracer.is_some()
    }

    /// The redactor in effect.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Shared, to [`Runtime::enter`] or [`Runtime::install`].
    pub fn shared(self) -> Arc<Self> {
        Arc::new(self)
    }

    /// Makes `runtime` the process-wide value, replacing the previous one as a whole.
    pub fn install(runtime: Arc<Self>) {
        *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = runtime;
        GENERATION.fetch_add(1, AcqRel);
    }

    /// Makes `runtime` the current value of this thread until the guard drops (then the one
    /// before it is current again).
    pub fn enter(self: &Arc<Self>) -> Entered {
        let previous = LOCAL.with(|local| local.borrow_mut().scoped.replace(self.clone()));
        Entered {
            previous,
            _not_send: PhantomData,
        }
    }
}

/// The process-wide value, replaced as a whole.
static GLOBAL: LazyLock<RwLock<Arc<Runtime>>> = LazyLock::new(RwLock::default);
/// Bumped at each replacement, so each thread's copy knows to refresh.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// A thread's view: the value it entered, if any, and its copy of the process-wide one.
struct Local {
    scoped: Option<Arc<Runtime>>,
    global: Option<(u64, Arc<Runtime>)>,
}

thread_local! {
    static LOCAL: RefCell<Local> = const { RefCell::new(Local { scoped: None, global: None }) };
}

/// The process-wide value, read through the lock.
fn global() -> Arc<Runtime> {
    GLOBAL
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Runs `f` with the value in effect: the thread's entered one, else the process-wide one (a
/// per-thread copy, refreshed when it was replaced; the hot path takes no lock).
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Runtime) -> R) -> R {
    let generation = GENERATION.load(Acquire);
    let mut f = Some(f);
    // The common case in one shared borrow: an entered value, or a copy that is current.
    let done = LOCAL.try_with(|local| {
        let local = local.try_borrow().ok()?;
        let runtime = match (&local.scoped, &local.global) {
            (Some(runtime), _) => runtime,
            (None, Some((g, runtime))) if *g == generation => runtime,
            _ => return None,
        };
        f.take().map(|f| f(runtime))
    });
    match (done, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => refresh_and_run(generation, f),
        // Unreachable: `f` ran or is still here.
        (_, None) => unreachable_ran(),
    }
}

/// `f` ran and returned nothing: it cannot happen, as a value is returned whenever it runs.
#[cold]
fn unreachable_ran<R>() -> R {
    unreachable!("the runtime closure ran without a result")
}

/// [`with`] when this thread's copy is missing or stale: refreshed, then used.
#[cold]
#[inline(never)]
fn refresh_and_run<R>(generation: u64, f: impl FnOnce(&Runtime) -> R) -> R {
    // Entered on this thread, but borrowed (entering or leaving right now), or the thread is
    // ending: the process-wide value.
    let runtime = global();
    let _ = LOCAL.try_with(|local| {
        if let Ok(mut local) = local.try_borrow_mut()
            && local.scoped.is_none()
        {
            local.global = Some((generation, runtime.clone()));
        }
    });
    f(&runtime)
}

/// Runs `f` with the tracer in effect, if any.
#[inline]
pub(crate) fn with_tracer<R>(f: impl FnOnce(&SdkTracer) -> R) -> Option<R> {
    with(|rt| rt.tracer.as_ref().map(f))
}

/// The current thread's entered value until dropped (see [`Runtime::enter`]).
#[derive(Debug)]
pub struct Entered {
    previous: Option<Arc<Runtime>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = LOCAL.try_with(|local| {
            if let Ok(mut local) = local.try_borrow_mut() {
                local.scoped = previous;
            }
        });
    }
}

/// Runs a future with a [`Runtime`] current while it is polled, on whichever thread polls it.
pub trait WithRuntime: Future + Sized {
    /// `self`, polled with `runtime` current.
    fn with_runtime(self, runtime: Arc<Runtime>) -> Scoped<Self> {
        Scoped {
            runtime,
            inner: Box::pin(self),
        }
    }
}

impl<F: Future> WithRuntime for F {}

/// A future polled with its runtime current (see [`WithRuntime`]).
pub struct Scoped<F> {
    runtime: Arc<Runtime>,
    inner: Pin<Box<F>>,
}

impl<F> std::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _current = self.runtime.enter();
        self.inner.as_mut().poll(cx)
    }
}

/// Replaces the process-wide value with `change` applied to a copy of it.
pub(crate) fn update(change: impl FnOnce(&mut Runtime)) {
    let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
    let mut next = Runtime::clone(&global);
    change(&mut next);
    *global = Arc::new(next);
    GENERATION.fetch_add(1, AcqRel);
}
