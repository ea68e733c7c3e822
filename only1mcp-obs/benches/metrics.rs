//! cargo bench -p only1mcp-obs --bench metrics
//!
//! A resolved typed handle against the `prometheus` crate's `with_label_values(..)`, the pattern
//! of the seed design, in the same run. Also: resolving through the typed `labels(..)` on every
//! call, and the `prometheus` crate with a pre-resolved child.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use only1mcp_obs::catalogue::{
    MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL, McpMethod, RequestStatus, ServerId,
};
use prometheus::{CounterVec, HistogramOpts, HistogramVec, Opts, Registry};
use std::hint::black_box;

fn counters(c: &mut Criterion) {
    let registry = Registry::new();
    let vec = CounterVec::new(
        Opts::new("baseline_requests_total", "baseline"),
        &["server_id", "method", "status"],
    )
    .expect("valid opts");
    registry.register(Box::new(vec.clone())).expect("register");
    let server = ServerId::new("github");
    let resolved = MCP_REQUESTS_TOTAL.labels(server, McpMethod::ToolsCall, RequestStatus::Success);
    let child = vec.with_label_values(&["github", "tools/call", "success"]);

    let mut g = c.benchmark_group("counter_inc");
    g.bench_function("only1mcp_obs/resolved_handle", |b| {
        b.iter(|| black_box(resolved).inc())
    });
    g.bench_function("only1mcp_obs/labels_each_call", |b| {
        b.iter(|| {
            MCP_REQUESTS_TOTAL
                .labels(
                    black_box(server),
                    McpMethod::ToolsCall,
                    RequestStatus::Success,
                )
                .inc()
        })
    });
    g.bench_function("only1mcp_obs/resolve_string_each_call", |b| {
        b.iter(|| {
            MCP_REQUESTS_TOTAL
                .labels(
                    ServerId::new(black_box("github")),
                    McpMethod::ToolsCall,
                    RequestStatus::Success,
                )
                .inc()
        })
    });
    g.bench_function("prometheus/with_label_values", |b| {
        b.iter(|| {
            vec.with_label_values(&[black_box("github"), "tools/call", "success"])
                .inc()
        })
    });
    g.bench_function("prometheus/resolved_child", |b| {
        b.iter(|| black_box(&child).inc())
    });
    g.finish();
}

fn histograms(c: &mut Criterion) {
    let buckets = vec![
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let vec = HistogramVec::new(
        HistogramOpts::new("baseline_duration_seconds", "baseline").buckets(buckets),
        &["server_id", "method"],
    )
    .expect("valid opts");
    let server = ServerId::new("github");
    let resolved = MCP_REQUEST_DURATION.labels(server, McpMethod::ToolsCall);
    let child = vec.with_label_values(&["github", "tools/call"]);

    let mut g = c.benchmark_group("histogram_observe");
    g.bench_function("only1mcp_obs/resolved_handle", |b| {
        b.iter(|| black_box(resolved).observe(black_box(0.042)))
    });
    g.bench_function("only1mcp_obs/labels_each_call", |b| {
        b.iter(|| {
            MCP_REQUEST_DURATION
                .labels(black_box(server), McpMethod::ToolsCall)
                .observe(black_box(0.042))
        })
    });
    g.bench_function("prometheus/with_label_values", |b| {
        b.iter(|| {
            vec.with_label_values(&[black_box("github"), "tools/call"])
                .observe(black_box(0.042))
        })
    });
    g.bench_function("prometheus/resolved_child", |b| {
        b.iter(|| black_box(&child).observe(black_box(0.042)))
    });
    g.finish();
}

criterion_group!(benches, counters, histograms);
criterion_main!(benches);
