//! The process collector and the business metrics.

use only1mcp_obs::business::{
    OptimizationResult, record_api_cost, record_optimization_result, sla_queries,
};
use only1mcp_obs::catalogue::{
    CONTEXT_CACHE_HIT_RATIO, CPU_USAGE_PERCENT, CacheType, CostOperation, CpuCore,
    MEMORY_USAGE_BYTES, MemoryType, OptimizationType,
};
use only1mcp_obs::metrics::encode_text;

#[test]
fn the_collector_measures_this_process() {
    let sample = only1mcp_obs::system::sample().expect("/proc/self");
    assert!(
        sample.resident_bytes > 1_000_000 && sample.virtual_bytes >= sample.resident_bytes,
        "{sample:?}"
    );
    let collector =
        only1mcp_obs::system::SystemCollector::start(std::time::Duration::from_millis(20))
            .expect("start");
    // Burn some CPU so the next interval has something to measure.
    let busy = std::time::Instant::now();
    let mut x = 0u64;
    while busy.elapsed() < std::time::Duration::from_millis(150) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    std::hint::black_box(x);
    only1mcp_obs_testkit::poll(std::time::Duration::from_secs(5), || {
        (CPU_USAGE_PERCENT.labels(CpuCore::new("process")).get() > 0.0).then_some(())
    })
    .expect("cpu measured");
    drop(collector);
    let resident = MEMORY_USAGE_BYTES.labels(MemoryType::Resident).get();
    assert!(resident > 1_000_000.0, "{resident}");
}

#[test]
fn optimization_results_move_the_hit_ratio_and_count_tokens() {
    for hit in [true, true, false, true] {
        record_optimization_result(&OptimizationResult {
            optimization_type: OptimizationType::Deduplication,
            tokens_saved: 100,
            cache_type: CacheType::PromptTemplate,
            cache_hit: hit,
        });
    }
    let ratio = CONTEXT_CACHE_HIT_RATIO
        .labels(CacheType::PromptTemplate)
        .get();
    let expected = [1.0, 1.0, 0.0, 1.0]
        .iter()
        .fold(0.0, |r, h| r * 0.95 + h * 0.05);
    assert!((ratio - expected).abs() < 1e-12, "{ratio} vs {expected}");
    assert!(
        encode_text().contains(
            "only1mcp_context_tokens_saved_total{optimization_type=\"deduplication\"} 400"
        )
    );
}

#[test]
fn costs_add_up_and_queries_name_declared_metrics() {
    record_api_cost("anthropic", "claude-opus", CostOperation::Completion, 0.25);
    record_api_cost("anthropic", "claude-opus", CostOperation::Completion, 0.05);
    assert!(encode_text().contains(r#"only1mcp_api_cost_dollars_total{provider="anthropic",model="claude-opus",operation="completion"} 0.3"#));
    let queries = sla_queries().expect("queries");
    assert!(
        queries[0].1.contains(r#"status=~"error|timeout""#),
        "{}",
        queries[0].1
    );
}
