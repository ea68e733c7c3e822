//! Log lines: JSON lines carry the exported span's trace and span ids; no configured secret
//! reaches any output format.

use only1mcp_obs::log::{LogFormat, Redactor, writer_layer};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::runtime::Runtime;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use proptest::prelude::*;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

/// Log output captured for assertions.
type Buffer = only1mcp_obs_testkit::capture::LogCapture;

fn subscriber(format: LogFormat, buffer: &Buffer) -> impl tracing::Subscriber + Send + Sync {
    let writer = buffer.clone();
    tracing_subscriber::registry().with(writer_layer(
        format,
        Arc::new(Redactor::default()),
        move || writer.clone(),
        EnvFilter::new("trace"),
    ))
}

#[mcp_instrumented(method = "tools/call", target = name)]
fn lookup(name: &str) -> Result<u32, std::io::Error> {
    tracing::info!(tool = name, "looking up");
    if name == "missing" {
        Err(std::io::Error::other("not found"))
    } else {
        Ok(42)
    }
}

#[test]
fn json_lines_carry_the_exported_span_ids() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    let runtime = Runtime::default()
        .with_provider(&provider)
        .with_call_logging(true, 5000)
        .shared();
    let buffer = Buffer::default();
    tracing::subscriber::with_default(subscriber(LogFormat::Json, &buffer), || {
        let _current = runtime.enter();
        lookup("weather").expect("ok");
        assert!(lookup("missing").is_err());
    });

    let spans = exporter.get_finished_spans().expect("spans");
    let lines: Vec<serde_json::Value> = buffer
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for name in ["tools/call weather", "tools/call missing"] {
        let span = spans.iter().find(|s| s.name == name).expect("span");
        let trace_id = span.span_context.trace_id().to_string();
        let span_id = span.span_context.span_id().to_string();
        let mine: Vec<_> = lines
            .iter()
            .filter(|l| l["trace_id"] == trace_id.as_str())
            .collect();
        assert_eq!(
            mine.len(),
            2,
            "the body's line and the call's line for {name}: {lines:#?}"
        );
        assert!(mine.iter().all(|l| l["span_id"] == span_id.as_str()));
        assert!(mine.iter().any(|l| l["message"] == "looking up"));
    }
    let failure = lines
        .iter()
        .find(|l| l["message"] == "MCP operation failed")
        .expect("failure line");
    assert_eq!(failure["level"], "ERROR");
    assert_eq!(failure["fields"]["method"], "tools/call");
    assert_eq!(failure["fields"]["error"], "_OTHER");
    let success = lines
        .iter()
        .find(|l| l["message"] == "MCP operation completed")
        .expect("success line");
    assert_eq!(success["level"], "INFO");
    assert_eq!(success["fields"]["success"], true);
}

#[test]
fn successful_calls_are_not_logged_by_default() {
    let buffer = Buffer::default();
    tracing::subscriber::with_default(subscriber(LogFormat::Json, &buffer), || {
        let _current = Runtime::default().shared().enter();
        lookup("quiet").expect("ok");
    });
    assert!(
        !buffer.text().contains("MCP operation completed"),
        "{}",
        buffer.text()
    );
}

fn log_secret_everywhere(secret: &str) {
    let span =
        tracing::info_span!("request", authorization = %format!("Bearer {secret}"), user = "ann");
    let _entered = span.enter();
    tracing::info!(password = secret, api_key = %secret, "login with token={secret} ok");
    tracing::warn!(header = %format!("Authorization: Bearer {secret}"), url = %format!("https://x/?access_token={secret}&a=1"), "calling");
    tracing::error!(details = ?format!("\"client_secret\": \"{secret}\""), "failed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_secret_reaches_any_format(secret in "S3CR3T[A-Za-z0-9._~+/-]{4,40}") {
        for format in [LogFormat::Json, LogFormat::Pretty, LogFormat::Compact] {
            let buffer = Buffer::default();
            tracing::subscriber::with_default(subscriber(format, &buffer), || log_secret_everywhere(&secret));
            let text = buffer.text();
            prop_assert!(text.contains("[REDACTED]"), "{:?}: {}", format, text);
            prop_assert!(!text.contains("S3CR3T"), "{:?} leaked the secret: {}", format, text);
        }
    }
}
