//! cargo bench -p only1mcp-obs --bench instrument
//!
//! One function, three ways, in one run: bare; instrumented by hand (an OpenTelemetry span made
//! directly, resolved metric handles, one timing); and `#[mcp_instrumented]`. Each with tracing
//! off, exporting every span to a discarding batch exporter, and sampling 1%.

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
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use std::hint::black_box;
use std::time::Instant;

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

fn provider(sampler: Sampler) -> SdkTracerProvider {
    let settings = BatchSettings {
        max_queue_size: 65_536,
        ..BatchSettings::default()
    };
    let processor =
        BoundedBatchProcessor::start(settings, Resource::builder_empty().build(), || {
            Ok((Discard, ExportDriver::Blocking))
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
        g.finish();
    }
    only1mcp_obs::trace::clear_provider();
}

criterion_group!(benches, calls);
criterion_main!(benches);
