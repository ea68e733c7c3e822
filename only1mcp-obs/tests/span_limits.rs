//! Spans are bounded in bytes: client-sized strings are cut on the span, and the export queue
//! drops (and counts) spans past its byte budget instead of growing.

mod common;

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::metrics::encode_text;
use only1mcp_obs::trace::{BatchSettings, BoundedBatchProcessor, ErrorClass, ExportDriver};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use std::time::Duration;

#[mcp_instrumented(method = "tools/call", target = name, fields(note))]
fn handle(name: &str, note: &str) -> Result<(), ErrorClass> {
    Ok(())
}

#[test]
fn client_sized_strings_are_cut_on_the_span() {
    let (exporter, _provider, current) = common::in_memory();
    let huge = "é".repeat(100_000);
    handle(&huge, &huge).expect("call");
    drop(current);
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans.last().expect("a span");
    let limit = 1024;
    assert!(
        span.name.len() <= "tools/call ".len() + limit,
        "{}",
        span.name.len()
    );
    assert!(span.name.ends_with('…'));
    for key in ["gen_ai.tool.name", "note"] {
        let value = span
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .expect(key);
        assert!(
            value.len() <= limit && value.ends_with('…'),
            "{key}: {} bytes",
            value.len()
        );
    }
}

/// A value whose `Display` writes `pieces` pieces of 1 KiB, counting the pieces it wrote.
struct Endless {
    pieces: usize,
    written: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Display for Endless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let piece = "x".repeat(1024);
        for _ in 0..self.pieces {
            self.written
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            f.write_str(&piece)?;
        }
        Ok(())
    }
}

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug`
struct Endpoint {
    host: &'static str,
    port: u16,
}

#[mcp_instrumented(method = "tools/call", fields(%huge, ?endpoint, "api_token" = %token, port = %endpoint.port))]
fn formatted(huge: &Endless, endpoint: &Endpoint, token: &Endless) -> Result<(), ErrorClass> {
    Ok(())
}

#[test]
fn display_and_debug_fields_are_formatted_within_the_limit() {
    let (exporter, _provider, current) = common::in_memory();
    let endless = || Endless {
        pieces: 1_000_000,
        written: Default::default(),
    };
    let (huge, token) = (endless(), endless());
    let endpoint = Endpoint {
        host: "backend.internal",
        port: 8443,
    };
    formatted(&huge, &endpoint, &token).expect("call");
    drop(current);
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans.last().expect("a span");
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap_or_else(|| panic!("no attribute {key}"))
    };
    // A gigabyte-sized Display stops at the limit instead of being formatted whole.
    let cut = attribute("huge");
    assert!(
        cut.len() <= 1024 && cut.ends_with('…'),
        "{} bytes",
        cut.len()
    );
    let pieces = huge.written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(pieces <= 2, "{pieces} pieces formatted");
    assert_eq!(
        attribute("endpoint"),
        r#"Endpoint { host: "backend.internal", port: 8443 }"#
    );
    assert_eq!(attribute("port"), "8443");
    // A secret-named field is redacted without being formatted.
    assert_eq!(attribute("api_token"), "[REDACTED]");
    assert_eq!(token.written.load(std::sync::atomic::Ordering::Relaxed), 0);
}

/// An exporter whose export never finishes: a collector that took the connection and hung.
#[derive(Debug)]
struct Hung;

impl SpanExporter for Hung {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        std::future::pending().await
    }
}

fn dropped(reason: &str) -> f64 {
    let key = format!("only1mcp_obs_spans_dropped_total{{reason=\"{reason}\"}} ");
    encode_text()
        .lines()
        .find_map(|l| l.strip_prefix(&key)?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn the_export_queue_drops_spans_past_its_byte_budget() {
    let settings = BatchSettings {
        max_queue_size: 100_000,
        max_queue_bytes: 1 << 20,
        max_export_batch_size: 1,
        scheduled_delay: Duration::from_millis(1),
        export_timeout: Duration::from_secs(3600),
    };
    let processor = BoundedBatchProcessor::start(settings, Resource::builder().build(), || {
        Ok::<_, std::convert::Infallible>((Hung, ExportDriver::Blocking))
    })
    .expect("processor");
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("span-limits");
    let before = dropped("queue_bytes");
    // 100 spans of 64 KiB each: 6.4 MiB offered to a 1 MiB queue behind a hung export.
    let big = "x".repeat(64 << 10);
    for _ in 0..100 {
        let _span = tracer
            .span_builder("big")
            .with_attributes([KeyValue::new("payload", big.clone())])
            .start(&tracer);
    }
    let lost = dropped("queue_bytes") - before;
    println!("100 spans of 64 KiB, 1 MiB queue, hung export: {lost} dropped for bytes");
    // At most ~16 fit (1 MiB / 64 KiB) besides the one stuck in export.
    assert!(lost >= 80.0, "only {lost} dropped");
    // The provider's shutdown would wait on the hung export; leave it to the process's end.
    std::mem::forget(provider);
}
