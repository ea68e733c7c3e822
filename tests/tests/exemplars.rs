//! Exemplars live: calls made in sampled spans leave their trace id beside the latency and
//! request series; a real Prometheus of each generation scrapes them (OpenMetrics, exemplar
//! storage on), `/api/v1/query_exemplars` returns the trace id of a call this test made, and
//! Jaeger has that trace.

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{ErrorClass, SamplingStrategy};
use only1mcp_obs_testkit::backend::{Backend, Component};
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::prometheus::{Prometheus, PrometheusConfig};
use only1mcp_obs_testkit::traces::SpanQuery;
use opentelemetry::trace::TraceContextExt as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// Calls made: the tool each called (each test its own), its trace id, and whether it was
/// sampled.
static MADE: Mutex<Vec<(String, String, bool)>> = Mutex::new(Vec::new());

#[mcp_instrumented(method = "tools/call", target = name)]
fn lookup(name: &str) -> Result<(), ErrorClass> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let context = span.span_context();
    MADE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((
            name.to_owned(),
            context.trace_id().to_string(),
            context.is_sampled(),
        ));
    Ok(())
}

#[test]
fn exemplars_lead_to_traces_on_prometheus3() {
    exemplars_lead_to_traces(Generation::Current);
}

#[test]
fn exemplars_lead_to_traces_on_prometheus2() {
    exemplars_lead_to_traces(Generation::Legacy);
}

fn exemplars_lead_to_traces(generation: Generation) {
    let backend = Backend::from_env();
    let test = format!("exemplars_lead_to_traces[{}]", generation.short());
    if !backend.announce_components(&test, generation, &[Component::Prometheus]) {
        return;
    }
    let Some((jaeger, mut config)) = only1mcp_obs_e2e::jaeger_for(&test, "exemplar-e2e") else {
        return;
    };
    // Half the calls are sampled: only those may leave exemplars.
    config.sampling.strategy = SamplingStrategy::Ratio;
    config.sampling.rate = 0.5;
    // This test's pipeline, current on this thread only, and a tool of its own: the tests run
    // side by side, each reading only its own exemplars and traces.
    let tracing = only1mcp_obs::trace::build(&config).expect("build");
    let runtime = tracing.runtime();
    let _current = runtime.enter();
    let tool = format!("lookup-{}", generation.short());

    let exporter = only1mcp_obs_e2e::Exporter::start();
    let prometheus = Prometheus::start(
        backend,
        PrometheusConfig::default()
            .generation(generation)
            .scrape(exporter.target()),
    )
    .expect("prometheus");

    // Calls go on until Prometheus has scraped an exemplar of the latency histogram.
    let selector =
        format!("mcp_server_operation_duration_seconds_bucket{{gen_ai_tool_name=\"{tool}\"}}");
    let found = only1mcp_obs_testkit::poll(DEADLINE, || {
        lookup(&tool).expect("call");
        let exemplars = prometheus.exemplars(&selector).ok()?;
        let trace = exemplars
            .iter()
            .find_map(|e| e.labels.get("trace_id").cloned())?;
        Some((trace, exemplars))
    });
    let (trace_id, exemplars) = found.unwrap_or_else(|e| {
        panic!(
            "[{test}] no exemplar for {selector} ({e}); Prometheus printed:\n{}",
            prometheus.output()
        )
    });
    tracing.flush().expect("flush");
    let made: HashMap<String, bool> = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|(called, _, _)| *called == tool)
        .map(|(_, id, sampled)| (id.clone(), *sampled))
        .collect();
    println!(
        "[{test}] {} calls, {} sampled; exemplars: {exemplars:?}",
        made.len(),
        made.values().filter(|s| **s).count()
    );
    for e in &exemplars {
        let id = e.labels.get("trace_id").expect("trace_id label");
        assert_eq!(
            made.get(id),
            Some(&true),
            "[{test}] exemplar {id} is not a sampled call of this test"
        );
        assert!(e.value >= 0.0 && e.series["le"].parse::<f64>().is_ok_and(|le| e.value <= le));
    }
    let span = jaeger
        .wait_for(
            &SpanQuery::name(&format!("tools/call {tool}"))
                .service("exemplar-e2e")
                .trace(&trace_id),
            DEADLINE,
        )
        .unwrap_or_else(|e| panic!("[{test}] the exemplar's trace is not in Jaeger: {e}"));
    assert_eq!(span.trace_id, trace_id);

    // The request counter carries one too.
    let counted = only1mcp_obs_testkit::poll(DEADLINE, || {
        lookup(&tool).expect("call");
        let sampled = sampled_calls(&tool);
        prometheus
            .exemplars("only1mcp_mcp_requests_total")
            .ok()?
            .into_iter()
            .find(|e| {
                e.labels
                    .get("trace_id")
                    .is_some_and(|id| sampled.contains(id))
            })
    });
    assert!(
        counted.is_ok(),
        "[{test}] no exemplar on the request counter"
    );
}

/// The trace ids of the sampled calls to `tool` made so far.
fn sampled_calls(tool: &str) -> std::collections::HashSet<String> {
    MADE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|(called, _, sampled)| called == tool && *sampled)
        .map(|(_, id, _)| id.clone())
        .collect()
}
