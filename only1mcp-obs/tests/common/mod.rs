//! Helpers shared by the integration tests of this crate.

use only1mcp_obs::runtime::{Entered, Runtime};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};

/// A provider whose spans land in the returned exporter as they end, current on this thread
/// (see `only1mcp_obs::runtime`) until the guard drops: tests running at the same time each see
/// their own. Keep the provider alive while spans are expected.
pub(crate) fn in_memory() -> (InMemorySpanExporter, SdkTracerProvider, Entered) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    let current = Runtime::default().with_provider(&provider).shared().enter();
    (exporter, provider, current)
}
