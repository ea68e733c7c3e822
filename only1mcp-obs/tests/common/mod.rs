//! Helpers shared by the integration tests of this crate.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};

/// Installs a provider whose spans land in the returned exporter as they end. Keep the provider
/// alive while spans are expected.
pub(crate) fn in_memory() -> (InMemorySpanExporter, SdkTracerProvider) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    only1mcp_obs::trace::set_provider(&provider);
    (exporter, provider)
}
