//! cargo bench -p only1mcp-obs --bench instrument --features tracing-bridge
//!
//! One function, several ways, in one run: bare; instrumented by hand (an OpenTelemetry span made
//! directly, resolved metric handles, one timing); `#[mcp_instrumented]`; and the peers:
//!
//! - `tracing_otel_prometheus`: what users write today, `#[tracing::instrument]` with
//!   `tracing-opentelemetry` and the SDK's own `BatchSpanProcessor`, metrics through the
//!   `prometheus` crate's `with_label_values(..)` (a counter and two histograms, as ours);
//! - `autometrics_tracing_otel`: the same span, metrics by `#[autometrics]` (prometheus 0.14);
//! - `raw_sdk_prometheus` (the floor): an SDK span built in one go with the same name and
//!   attributes, the SDK's `BatchSpanProcessor`, resolved `prometheus` children.
//!
//! Each with tracing off, exporting every span to a discarding exporter, and sampling 1%.
//! Every pipeline gets a 65 536-span queue so that drops (which are cheaper than exports) stay rare.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use only1mcp_obs::catalogue::{
    MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL, MCP_SERVER_OPERATION_DURATION, McpMethod,
    RequestStatus, ServerId, ToolName,
};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{BatchSettings, BoundedBatchProcessor, ErrorClass, ExportDriver};
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanKind, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};
use prometheus::{CounterVec, HistogramOpts, HistogramVec, Opts};
use std::hint::black_box;
use std::time::Instant;
use tracing_subscriber::layer::SubscriberExt as _;

const QUEUE: usize = 65_536;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn body(name: &str) -> Result<usize, ErrorClass> {
    Ok(black_box(name).len())
}

fn bare(name: &str) -> Result<usize, ErrorClass> {
    body(name)
}

#[mcp_instrumented(method = "tools/call", target = name)]
fn instrumented(name: &str) -> Result<usize, ErrorClass> {
    body(name)
}

/// A function its body logs from: an event, and a `#[tracing::instrument]` helper.
#[tracing::instrument(skip_all)]
fn helper(name: &str) -> usize {
    tracing::info!(len = name.len(), "helper ran");
    body(name).unwrap_or_default()
}

#[mcp_instrumented(method = "tools/call", target = name)]
fn instrumented_logging(name: &str) -> Result<usize, ErrorClass> {
    tracing::info!("calling the helper");
    Ok(helper(name))
}

/// What a careful engineer writes by hand for the same telemetry: the constant labels resolved
/// once, the tool label (it depends on the argument) resolved per call.
struct Hand {
    tracer: Option<SdkTracer>,
    requests: &'static only1mcp_obs::Counter,
    duration: &'static only1mcp_obs::Histogram,
}

impl Hand {
    fn new(tracer: Option<SdkTracer>) -> Self {
        let server = ServerId::new("self");
        Hand {
            tracer,
            requests: MCP_REQUESTS_TOTAL.labels(
                server,
                McpMethod::ToolsCall,
                RequestStatus::Success,
            ),
            duration: MCP_REQUEST_DURATION.labels(server, McpMethod::ToolsCall),
        }
    }

    fn call(&self, name: &str) -> Result<usize, ErrorClass> {
        let start = Instant::now();
        let tool = ToolName::new(name);
        let result = match &self.tracer {
            Some(tracer) => {
                let builder = SpanBuilder::from_name(format!("tools/call {name}"))
                    .with_kind(SpanKind::Server)
                    .with_attributes([KeyValue::new("mcp.method.name", "tools/call")]);
                let mut span = tracer.build_with_context(builder, &Context::current());
                if span.is_recording() {
                    span.set_attributes([
                        KeyValue::new("gen_ai.tool.name", name.to_owned()),
                        KeyValue::new("gen_ai.operation.name", "execute_tool"),
                        KeyValue::new("code.function.name", "call"),
                    ]);
                }
                let cx = Context::current_with_span(span);
                let result = {
                    let _attached = cx.clone().attach();
                    body(name)
                };
                cx.span().end();
                result
            }
            None => body(name),
        };
        let seconds = start.elapsed().as_secs_f64();
        MCP_SERVER_OPERATION_DURATION
            .labels(McpMethod::ToolsCall, None, Some(tool))
            .observe(seconds);
        self.duration.observe(seconds);
        self.requests.inc();
        result
    }
}

/// The `prometheus` crate's families for the same three series as ours: requests, request
/// duration, operation duration.
struct Prom {
    requests: CounterVec,
    duration: HistogramVec,
    operation: HistogramVec,
}

impl Prom {
    fn new() -> Self {
        let buckets = vec![
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        Prom {
            requests: CounterVec::new(
                Opts::new("peer_mcp_requests_total", "requests"),
                &["server_id", "method", "status"],
            )
            .expect("opts"),
            duration: HistogramVec::new(
                HistogramOpts::new("peer_mcp_request_duration_seconds", "duration")
                    .buckets(buckets.clone()),
                &["server_id", "method"],
            )
            .expect("opts"),
            operation: HistogramVec::new(
                HistogramOpts::new("peer_mcp_server_operation_duration_seconds", "operation")
                    .buckets(buckets),
                &["mcp_method_name", "gen_ai_tool_name"],
            )
            .expect("opts"),
        }
    }

    /// As users write it: labels resolved on every call.
    fn record(&self, name: &str, seconds: f64, ok: bool) {
        let status = if ok { "success" } else { "error" };
        self.operation
            .with_label_values(&["tools/call", name])
            .observe(seconds);
        self.duration
            .with_label_values(&["self", "tools/call"])
            .observe(seconds);
        self.requests
            .with_label_values(&["self", "tools/call", status])
            .inc();
    }
}

#[tracing::instrument(
    name = "tools/call",
    skip_all,
    fields(
        otel.name = %format_args!("tools/call {name}"),
        otel.kind = "server",
        mcp.method.name = "tools/call",
        gen_ai.tool.name = name,
        gen_ai.operation.name = "execute_tool",
    )
)]
fn traced(name: &str) -> Result<usize, ErrorClass> {
    body(name)
}

/// `#[tracing::instrument]` plus `prometheus` metrics, timed once.
fn tracing_otel_prometheus(prom: &Prom, name: &str) -> Result<usize, ErrorClass> {
    let start = Instant::now();
    let result = traced(name);
    prom.record(name, start.elapsed().as_secs_f64(), result.is_ok());
    result
}

#[autometrics::autometrics]
fn autometered(name: &str) -> Result<usize, ErrorClass> {
    traced(name)
}

/// The floor: an SDK span built in one go and resolved `prometheus` children.
struct Floor {
    tracer: Option<SdkTracer>,
    requests: prometheus::Counter,
    duration: prometheus::Histogram,
    operation: prometheus::Histogram,
}

impl Floor {
    fn new(tracer: Option<SdkTracer>, prom: &Prom) -> Self {
        Floor {
            tracer,
            requests: prom
                .requests
                .with_label_values(&["self", "tools/call", "success"]),
            duration: prom.duration.with_label_values(&["self", "tools/call"]),
            operation: prom.operation.with_label_values(&["tools/call", "search"]),
        }
    }

    fn call(&self, name: &str) -> Result<usize, ErrorClass> {
        let start = Instant::now();
        let result = match &self.tracer {
            Some(tracer) => {
                let mut span = tracer.build(
                    SpanBuilder::from_name(format!("tools/call {name}"))
                        .with_kind(SpanKind::Server)
                        .with_attributes([
                            KeyValue::new("mcp.method.name", "tools/call"),
                            KeyValue::new("gen_ai.tool.name", name.to_owned()),
                            KeyValue::new("gen_ai.operation.name", "execute_tool"),
                        ]),
                );
                let result = body(name);
                span.end();
                result
            }
            None => body(name),
        };
        let seconds = start.elapsed().as_secs_f64();
        self.operation.observe(seconds);
        self.duration.observe(seconds);
        self.requests.inc();
        result
    }
}

/// The SDK's own batch processor, on the discarding exporter.
fn sdk_provider(sampler: Sampler) -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(Discard)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build()
}

fn provider(sampler: Sampler) -> SdkTracerProvider {
    let settings = BatchSettings {
        max_queue_size: QUEUE,
        ..BatchSettings::default()
    };
    let processor =
        BoundedBatchProcessor::start(settings, Resource::builder_empty().build(), || {
            Ok::<_, std::convert::Infallible>((Discard, ExportDriver::Blocking))
        })
        .expect("processor");
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build()
}

fn calls(c: &mut Criterion) {
    let modes: [(&str, Option<Sampler>); 3] = [
        ("tracing_off", None),
        ("export_100pct", Some(Sampler::AlwaysOn)),
        ("sample_1pct", Some(Sampler::TraceIdRatioBased(0.01))),
    ];
    for (mode, sampler) in modes {
        let mut g = c.benchmark_group(format!("call/{mode}"));
        g.bench_function("bare", |b| b.iter(|| bare(black_box("search"))));
        // Each variant gets a fresh pipeline, so none inherits the other's export backlog.
        let fresh = || {
            let provider = sampler.clone().map(provider);
            match &provider {
                Some(p) => only1mcp_obs::trace::set_provider(p),
                None => only1mcp_obs::trace::clear_provider(),
            }
            provider
        };
        let provider = fresh();
        let hand = Hand::new(provider.as_ref().map(|p| p.tracer("hand")));
        g.bench_function("hand", |b| b.iter(|| hand.call(black_box("search"))));
        drop(hand);
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        let provider = fresh();
        g.bench_function("mcp_instrumented", |b| {
            b.iter(|| instrumented(black_box("search")))
        });
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        // The same without exemplars: what keeping a sampled call's trace id costs.
        let provider = fresh();
        only1mcp_obs::metrics::exemplar::set_enabled(false);
        g.bench_function("mcp_instrumented_no_exemplars", |b| {
            b.iter(|| instrumented(black_box("search")))
        });
        only1mcp_obs::metrics::exemplar::set_enabled(true);
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        bridge(&mut g, &fresh);
        peers(&mut g, sampler.as_ref());
        g.finish();
    }
    only1mcp_obs::trace::clear_provider();
}

/// A call whose body logs (an event and a `tracing` span), under a subscriber that does
/// nothing with them, and under the `tracing` bridge, which exports them with the call's span
/// (`--features tracing-bridge`).
fn bridge(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    fresh: &dyn Fn() -> Option<SdkTracerProvider>,
) {
    let provider = fresh();
    let quiet = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::INFO),
    );
    g.bench_function("logging_body", |b| {
        b.iter(|| instrumented_logging(black_box("search")))
    });
    drop(quiet);
    #[cfg(feature = "tracing-bridge")]
    {
        let bridged = tracing::subscriber::set_default(
            tracing_subscriber::registry().with(only1mcp_obs::trace::bridge::layer()),
        );
        g.bench_function("logging_body_bridged", |b| {
            b.iter(|| instrumented_logging(black_box("search")))
        });
        drop(bridged);
    }
    if let Some(p) = provider {
        let _ = p.shutdown();
    }
}

/// The peers, each on a fresh SDK pipeline. With tracing off no subscriber is installed (the
/// cheapest case for `tracing`).
fn peers(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    sampler: Option<&Sampler>,
) {
    let prom = Prom::new();
    let subscriber = |provider: &SdkTracerProvider| {
        use opentelemetry::trace::TracerProvider as _;
        tracing::subscriber::set_default(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("peer"))),
        )
    };

    let provider = sampler.cloned().map(sdk_provider);
    let guard = provider.as_ref().map(subscriber);
    g.bench_function("tracing_otel_prometheus", |b| {
        b.iter(|| tracing_otel_prometheus(&prom, black_box("search")))
    });
    drop(guard);
    if let Some(p) = provider {
        let _ = p.shutdown();
    }

    let provider = sampler.cloned().map(sdk_provider);
    let guard = provider.as_ref().map(subscriber);
    g.bench_function("autometrics_tracing_otel", |b| {
        b.iter(|| autometered(black_box("search")))
    });
    drop(guard);
    if let Some(p) = provider {
        let _ = p.shutdown();
    }

    let provider = sampler.cloned().map(sdk_provider);
    let floor = Floor::new(provider.as_ref().map(|p| p.tracer("floor")), &prom);
    g.bench_function("raw_sdk_prometheus", |b| {
        b.iter(|| floor.call(black_box("search")))
    });
    drop(floor);
    if let Some(p) = provider {
        let _ = p.shutdown();
    }
}

criterion_group!(benches, calls);
criterion_main!(benches);
