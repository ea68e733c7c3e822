//! cargo bench -p only1mcp-obs --bench metrics
//!
//! A resolved typed handle against the `prometheus` crate's `with_label_values(..)`, the pattern
//! of the seed design, in the same run. Also: resolving through the typed `labels(..)` on every
//! call, and the `prometheus` crate with a pre-resolved child. And a scrape: `/metrics` with
//! 10 000 counter series, our `encode_text()` against the `prometheus` crate's `gather()` plus
//! `TextEncoder` for the same series.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use only1mcp_obs::catalogue::{
    MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL, McpMethod, RequestStatus, ServerId,
};
use only1mcp_obs::metrics;
use prometheus::{
    CounterVec, Encoder as _, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder,
};
use std::hint::black_box;

metrics! {
    /// A shard of the scrape bench.
    pub dynamic Shard { max: 100, overflow: "_other" }

    /// A key of the scrape bench.
    pub dynamic Key { max: 100, overflow: "_other" }

    /// 10 000 series for the scrape bench.
    pub counter SCRAPE_SERIES = "bench_scrape_series_total" {
        labels: { shard: Shard, key: Key },
        budget: 10201,
    }
}

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

/// `/metrics` with 10 000 series: the whole page as a scrape renders it.
fn scrape(c: &mut Criterion) {
    let vec = CounterVec::new(
        Opts::new(
            "bench_scrape_series_total",
            "10 000 series for the scrape bench.",
        ),
        &["shard", "key"],
    )
    .expect("valid opts");
    let registry = Registry::new();
    registry.register(Box::new(vec.clone())).expect("register");
    for s in 0..100 {
        for k in 0..100 {
            let (shard, key) = (format!("shard-{s}"), format!("key-{k}"));
            let value = (s * 100 + k) as u64;
            SCRAPE_SERIES
                .labels(Shard::new(&shard), Key::new(&key))
                .inc_by(value);
            vec.with_label_values(&[&shard, &key]).inc_by(value as f64);
        }
    }
    let ours = only1mcp_obs::metrics::encode_text();
    let mut theirs = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut theirs)
        .expect("encode");
    let series = |page: &str| {
        page.lines()
            .filter(|l| l.starts_with("bench_scrape_series_total{"))
            .count()
    };
    assert_eq!(series(&ours), 10_000);
    assert_eq!(series(std::str::from_utf8(&theirs).expect("utf-8")), 10_000);

    let mut g = c.benchmark_group("scrape_10k_series");
    g.bench_function("only1mcp_obs/encode_text", |b| {
        b.iter(|| black_box(only1mcp_obs::metrics::encode_text()))
    });
    g.bench_function("prometheus/gather_text_encoder", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(theirs.len());
            TextEncoder::new()
                .encode(&registry.gather(), &mut out)
                .expect("encode");
            black_box(out)
        })
    });
    g.finish();
}

criterion_group!(benches, counters, histograms, scrape);
criterion_main!(benches);
