//! Exemplars: counters and histogram buckets updated inside a sampled span carry its trace id in
//! the OpenMetrics exposition (and nowhere in the text format); unsampled spans leave none.

use only1mcp_obs::metrics;
use only1mcp_obs::metrics::encode;
use only1mcp_obs::metrics::text::Format;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

metrics! {
    /// Calls counted with exemplars (test family).
    pub counter EXEMPLAR_CALLS = "test_exemplar_calls_total" {
        labels: { sampled: ["yes", "no"] },
    }

    /// Latency observed with exemplars (test family).
    pub histogram EXEMPLAR_LATENCY = "test_exemplar_latency_seconds" {
        unit: seconds,
        buckets: [0.1, 1.0],
        labels: { sampled: ["yes", "no"] },
    }

    /// Latency observed for the timestamp test (test family).
    pub histogram EXEMPLAR_STAMPED = "test_exemplar_stamped_seconds" {
        unit: seconds,
        buckets: [0.1, 1.0],
    }
}

/// Runs `f` inside a remote span context with the given sampling flag.
fn in_span(trace: TraceId, sampled: bool, f: impl FnOnce()) {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let context = SpanContext::new(trace, SpanId::from(7), flags, true, TraceState::default());
    let _guard = opentelemetry::Context::new()
        .with_remote_span_context(context)
        .attach();
    f();
}

#[test]
fn sampled_updates_carry_their_trace_in_openmetrics_only() {
    let sampled = TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128);
    let unsampled = TraceId::from(0x1111_u128);
    in_span(sampled, true, || {
        EXEMPLAR_CALLS.labels(ExemplarCallsSampled::Yes).inc();
        EXEMPLAR_LATENCY
            .labels(ExemplarLatencySampled::Yes)
            .observe(0.5);
    });
    in_span(unsampled, false, || {
        EXEMPLAR_CALLS.labels(ExemplarCallsSampled::No).inc();
        EXEMPLAR_LATENCY
            .labels(ExemplarLatencySampled::No)
            .observe(0.5);
    });
    // Outside any span: counted, no exemplar.
    EXEMPLAR_CALLS.labels(ExemplarCallsSampled::No).inc();

    let page = encode(Format::OpenMetrics);
    let line = |start: &str| {
        page.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start} in\n{page}"))
            .to_owned()
    };
    let with = format!(" # {{trace_id=\"{sampled}\"}} ");
    assert!(
        line("test_exemplar_calls_total{sampled=\"yes\"} 1").contains(&format!("{with}1 ")),
        "{page}"
    );
    // The observation's bucket has it; the others do not.
    assert!(
        line("test_exemplar_latency_seconds_bucket{sampled=\"yes\",le=\"1.0\"} 1")
            .contains(&format!("{with}0.5 "))
    );
    assert!(
        !line("test_exemplar_latency_seconds_bucket{sampled=\"yes\",le=\"0.1\"}").contains('#')
    );
    assert!(
        !line("test_exemplar_latency_seconds_bucket{sampled=\"yes\",le=\"+Inf\"}").contains('#')
    );
    // Unsampled spans leave none.
    assert!(!line("test_exemplar_calls_total{sampled=\"no\"} 2").contains('#'));
    assert!(!line("test_exemplar_latency_seconds_bucket{sampled=\"no\",le=\"1.0\"}").contains('#'));
    // OpenMetrics names counter families without `_total`, and ends the page.
    assert!(page.contains("# TYPE test_exemplar_calls counter\n"));
    assert!(page.ends_with("# EOF\n"));
    // The text format shows no exemplar.
    let text = encode(Format::Text);
    assert!(text.contains("# TYPE test_exemplar_calls_total counter\n"));
    assert!(!text.contains("trace_id"), "{text}");
    assert!(!text.contains("# EOF"));
}

/// An exemplar's timestamp is the wall-clock time it was recorded: between two readings of the
/// wall clock taken around it.
#[test]
fn an_exemplar_is_stamped_with_the_wall_clock_time_it_was_recorded() {
    let unix = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64()
    };
    let before = unix();
    let trace = TraceId::from(0x2222_u128);
    in_span(trace, true, || EXEMPLAR_STAMPED.labels().observe(0.05));
    let after = unix();
    let exemplar = EXEMPLAR_STAMPED
        .labels()
        .exemplar(0)
        .expect("an exemplar in the 0.1 bucket");
    assert_eq!(exemplar.trace_id, trace);
    // A millisecond either way for the rounding of the two clocks.
    assert!(
        exemplar.timestamp >= before - 0.001 && exemplar.timestamp <= after + 0.001,
        "{before} <= {} <= {after}",
        exemplar.timestamp
    );
}

#[test]
fn the_scraper_chooses_the_format() {
    // What Prometheus 3 sends by default, and what 2.x sends.
    let prometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    let prometheus2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(Format::negotiate(Some(prometheus3)), Format::OpenMetrics);
    assert_eq!(Format::negotiate(Some(prometheus2)), Format::OpenMetrics);
    assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
    assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
    assert_eq!(Format::negotiate(None), Format::Text);
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text;q=0, text/plain")),
        Format::Text
    );
}
