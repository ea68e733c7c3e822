//! Exemplars: the trace id of a sampled span, kept beside the counter or histogram bucket it
//! incremented and shown in the OpenMetrics exposition (`… # {trace_id="…"} 0.042 1700000000.123`),
//! so that a point on a latency graph leads to the trace of a call it counted.
//!
//! One exemplar per counter series and per histogram bucket: the latest one. Storing it never
//! waits: when another thread is storing one for the same slot, this one is skipped.

use opentelemetry::trace::{TraceContextExt as _, TraceId};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

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

/// The latest exemplar of a series or bucket.
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<Option<Exemplar>>);

impl Slot {
    /// Keeps `value` with `trace_id` as the latest exemplar, unless another thread holds the slot.
    #[inline]
    pub(crate) fn offer(&self, trace_id: TraceId, value: f64) {
        if let Ok(mut slot) = self.0.try_lock() {
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            *slot = Some(Exemplar {
                trace_id,
                value,
                timestamp,
            });
        }
    }

    /// The latest exemplar, if any.
    pub(crate) fn get(&self) -> Option<Exemplar> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
