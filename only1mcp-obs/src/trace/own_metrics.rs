//! Metrics about the telemetry pipeline itself.

use crate::{LabelValue, metrics};

/// Why a span was not exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum SpanDropReason {
    /// The export queue was full: the collector is slower than the spans arrive.
    QueueFull,
    /// The export queue held its most bytes: spans arrive larger than the collector takes them.
    QueueBytes,
    /// The exporter returned an error (collector down, refused, ...).
    ExportFailed,
    /// The export took longer than its timeout.
    ExportTimeout,
    /// The span ended after the pipeline shut down.
    Shutdown,
}

metrics! {
    /// Spans dropped instead of exported, by reason.
    pub counter SPANS_DROPPED = "only1mcp_obs_spans_dropped_total" {
        labels: { reason: SpanDropReason },
    }

    /// Spans accepted by the exporter.
    pub counter SPANS_EXPORTED = "only1mcp_obs_spans_exported_total" {}
}
