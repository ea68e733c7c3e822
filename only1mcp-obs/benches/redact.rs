//! cargo bench -p only1mcp-obs --bench redact
//!
//! Redaction of 1 MiB values built to be slow (matches never followed by a separator, long runs
//! after a scheme word, URL schemes without a host) beside an ordinary log line: the work is
//! linear in the input whatever it holds.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use only1mcp_obs::log::Redactor;
use std::hint::black_box;

const MIB: usize = 1 << 20;

fn adversarial() -> Vec<(&'static str, String)> {
    [
        ("key_runs", "tokentoken"),
        ("no_separator", "passwordx"),
        ("scheme_words", "bearer "),
        ("userinfo", "://a:"),
        ("quotes", "api_key\"\""),
        ("pairs", "secret="),
    ]
    .into_iter()
    .map(|(name, unit)| (name, unit.repeat(MIB / unit.len())))
    .collect()
}

fn redact(c: &mut Criterion) {
    let redactor = Redactor::default();
    let mut group = c.benchmark_group("redact");
    group.sample_size(10);
    let line = "GET /search?q=rust&token=s3cr3t-value&page=2 Authorization: Bearer abc.def.ghi";
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function("log_line", |b| {
        b.iter(|| redactor.redact(black_box(line)).len())
    });
    group.throughput(Throughput::Bytes(MIB as u64));
    for (name, input) in adversarial() {
        group.bench_function(format!("1MiB_{name}"), |b| {
            b.iter(|| redactor.redact(black_box(&input)).len())
        });
    }
    group.finish();
}

criterion_group!(benches, redact);
criterion_main!(benches);
