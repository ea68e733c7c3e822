//! Tracing and logging configuration: `OTEL_*` variables, samplers, file output, slow calls.

use only1mcp_obs::log::{FileRotation, LogFormat, LogOutput, LoggingConfig};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::runtime::Runtime;
use only1mcp_obs::trace::{
    OtlpProtocol, SamplingConfig, SamplingRule, SamplingStrategy, TracingConfig,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use std::collections::HashMap;
use tracing_subscriber::layer::SubscriberExt;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn otel_variables_override_the_file() {
    let mut config = TracingConfig::default();
    config
        .apply_env(env(&[
            ("OTEL_SERVICE_NAME", "gateway"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ]))
        .expect("valid");
    assert_eq!(config.service_name, "gateway");
    assert_eq!(config.exporter.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(
        config.exporter.endpoint.as_deref(),
        Some("http://127.0.0.1:4318/v1/traces")
    );
    assert_eq!(config.exporter.timeout_seconds, 2.5);
    assert_eq!(config.sampling.strategy, SamplingStrategy::ParentBased);
    assert_eq!(config.sampling.rate, 0.25);

    let mut disabled = TracingConfig::default();
    disabled
        .apply_env(env(&[("OTEL_SDK_DISABLED", "true")]))
        .expect("valid");
    assert!(!disabled.enabled);
}

#[test]
fn bad_variables_name_the_variable_and_the_value() {
    for (var, value, expect) in [
        ("OTEL_TRACES_SAMPLER", "sometimes", "always_on"),
        ("OTEL_TRACES_SAMPLER_ARG", "lots", "number"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon", "grpc"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", "milliseconds"),
        ("OTEL_SDK_DISABLED", "maybe", "true or false"),
    ] {
        let err = TracingConfig::default()
            .apply_env(env(&[(var, value)]))
            .expect_err(var);
        let text = err.to_string();
        assert!(
            text.contains(var) && text.contains(value) && text.contains(expect),
            "{text}"
        );
    }
    let err = TracingConfig::default()
        .apply_env(env(&[("OTEL_TRACES_SAMPLER_ARG", "1.5")]))
        .expect_err("rate");
    assert_eq!(err.key, "OTEL_TRACES_SAMPLER_ARG");
    assert_eq!(err.value, "1.5");
}

#[mcp_instrumented(method = "tools/call", target = "search")]
fn tool_call() {}

#[mcp_instrumented(method = "ping")]
fn ping() {}

#[mcp_instrumented(method = "tools/list")]
fn list() {}

#[test]
fn adaptive_sampling_applies_per_operation_rates() {
    let sampling = SamplingConfig {
        strategy: SamplingStrategy::Adaptive,
        rate: 0.0,
        adaptive_rules: vec![
            SamplingRule {
                operation: "mcp.tool_call".to_owned(),
                rate: 1.0,
            },
            SamplingRule {
                operation: "ping".to_owned(),
                rate: 0.0,
            },
        ],
    };
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampling.sampler())
        .with_span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .build();
    {
        let _current = Runtime::default().with_provider(&provider).shared().enter();
        for _ in 0..20 {
            tool_call();
            ping();
            list();
        }
    }
    let names: Vec<String> = exporter
        .get_finished_spans()
        .expect("spans")
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names.len(), 20, "only tools/call is sampled: {names:?}");
    assert!(names.iter().all(|n| n == "tools/call search"));
    // The seed's production rules, as a preset.
    let seed = SamplingConfig::seed_adaptive();
    assert_eq!(seed.adaptive_rules[0].rate, 0.05);
    assert_eq!(seed.adaptive_rules[1].rate, 0.001);
}

#[test]
fn with_no_endpoint_nothing_is_exported_and_nothing_blocks() {
    let handle = only1mcp_obs::trace::install(&TracingConfig::default()).expect("install");
    for _ in 0..10_000 {
        tool_call();
    }
    handle.flush().expect("nothing to flush");
    handle
        .shutdown(std::time::Duration::from_secs(1))
        .expect("shutdown");
}

#[test]
fn file_output_and_slow_calls() {
    let dir = std::env::temp_dir().join(format!("only1mcp-obs-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("app.log");
    let config = LoggingConfig {
        format: LogFormat::Json,
        outputs: vec![LogOutput::File {
            path: path.clone(),
            level: Some("info".to_owned()),
            rotation: FileRotation::default(),
        }],
        ..LoggingConfig::default()
    };
    let (layers, guards) = only1mcp_obs::log::layers(&config).expect("layers");
    // Every call is slower than 0 ms: logged at warn even with call logging off.
    let runtime = Runtime::default().with_call_logging(false, 0).shared();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layers), || {
        let _current = runtime.enter();
        tracing::info!(api_key = "k-123", "started");
        ping();
    });
    drop(guards); // flushes the background writer
    let text = std::fs::read_to_string(&path).expect("log file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines[0]["message"], "started");
    assert_eq!(lines[0]["fields"]["api_key"], "[REDACTED]");
    assert_eq!(lines[1]["message"], "Slow MCP operation");
    assert_eq!(lines[1]["level"], "WARN");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[mcp_instrumented(method = "tools/call", target = "detail_probe", kind = client, server_id = "detail-backend")]
fn detailed_call() {}

#[test]
fn detailed_flags_drop_optional_labels() {
    {
        let _current = Runtime::default()
            .with_detail(false, false, false)
            .shared()
            .enter();
        detailed_call();
    }
    let page = only1mcp_obs::metrics::encode_text();
    assert!(
        !page.contains("detail-backend"),
        "per_backend off: the backend is recorded as `self`"
    );
    assert!(
        !page.contains("detail_probe"),
        "per_tool off: no tool label"
    );
    assert!(page.contains(
        r#"only1mcp_mcp_requests_total{server_id="self",method="tools/call",status="success"}"#
    ));
    detailed_call();
    let page = only1mcp_obs::metrics::encode_text();
    assert!(
        page.contains(r#"server_id="detail-backend""#)
            && page.contains(r#"gen_ai_tool_name="detail_probe""#)
    );
}
