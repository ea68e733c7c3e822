//! Exemplars: the trace id of a sampled span, kept beside the counter or histogram bucket it
//! incremented and shown in the OpenMetrics exposition (`… # {trace_id="…"} 0.042 1700000000.123`),
//! so that a point on a latency graph leads to the trace of a call it counted.
//!
//! One exemplar per counter series and per histogram bucket: the latest one. Storing it never
//! waits: when another thread is storing one for the same slot, this one is skipped.

use opentelemetry::trace::{TraceContextExt as _, TraceId};
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// An exemplar: the trace id of a sampled span, the value it added, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exemplar {
    /// The trace of the span the value was recorded in.
    pub trace_id: TraceId,
    /// The increment (counter) or observation (histogram).
    pub value: f64,
    /// When, in seconds since the Unix epoch.
    pub timestamp: f64,
}

/// A sampled call's trace and when the value was recorded: what an exemplar is made of. An
/// instrumented call passes the instant it ended, so storing its exemplars reads no clock.
pub(crate) type Sampled = Option<(TraceId, Instant)>;

/// The latest exemplar of a series or bucket, with the instant it was recorded (turned into
/// wall-clock time when read).
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<Option<(TraceId, f64, Instant)>>);

impl Slot {
    /// Keeps `value` with `trace_id`, recorded `at`, as the latest exemplar, unless another
    /// thread holds the slot.
    #[inline]
    pub(crate) fn offer(&self, trace_id: TraceId, value: f64, at: Instant) {
        if let Ok(mut slot) = self.0.try_lock() {
            *slot = Some((trace_id, value, at));
        }
    }

    /// The latest exemplar, if any.
    pub(crate) fn get(&self) -> Option<Exemplar> {
        let (trace_id, value, at) = (*self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))?;
        Some(Exemplar {
            trace_id,
            value,
            timestamp: unix_seconds(at),
        })
    }
}

/// The wall-clock time of `instant`, in seconds since the Unix epoch, measured from one pair of
/// clock readings taken when the first exemplar is read. Exemplar timestamps are informational:
/// a later step of the wall clock is not reflected.
fn unix_seconds(instant: Instant) -> f64 {
    static ANCHOR: OnceLock<(Instant, f64)> = OnceLock::new();
    let (anchor, wall) = *ANCHOR.get_or_init(|| {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        (Instant::now(), wall)
    });
    wall + instant.saturating_duration_since(anchor).as_secs_f64()
        - anchor.saturating_duration_since(instant).as_secs_f64()
}

/// Turns exemplars on or off (`metrics.exemplars`; on by default), in the process-wide
/// [`Runtime`](crate::runtime::Runtime).
pub fn set_enabled(enabled: bool) {
    crate::runtime::update(|rt| rt.exemplars = enabled);
}

/// The trace id of the current span, when it is sampled (its trace reaches the backend) and
/// exemplars are on.
#[inline]
pub fn current_trace() -> Option<TraceId> {
    if !crate::runtime::with(|rt| rt.exemplars) {
        return None;
    }
    opentelemetry::Context::map_current(|cx| sampled(cx.span().span_context()))
}

/// The trace id of `context` as an exemplar: when it is sampled and exemplars are on.
#[inline]
pub fn trace_of(context: &opentelemetry::trace::SpanContext) -> Option<TraceId> {
    crate::runtime::with(|rt| rt.exemplars)
        .then(|| sampled(context))
        .flatten()
}

/// The trace id of `context` when it is sampled.
#[inline]
pub(crate) fn sampled(context: &opentelemetry::trace::SpanContext) -> Option<TraceId> {
    (context.is_sampled() && context.is_valid()).then(|| context.trace_id())
}
