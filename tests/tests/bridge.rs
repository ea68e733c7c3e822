//! The `tracing` bridge, live against Jaeger: inside an instrumented call, a
//! `#[tracing::instrument]` function becomes a child span of the MCP span and `tracing` events
//! become span events, redacted like everything else; debug events, and spans outside any call,
//! are not exported.

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::ErrorClass;
use only1mcp_obs_testkit::traces::{AttrValue, SpanQuery};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;

const DEADLINE: Duration = Duration::from_secs(30);

#[tracing::instrument(skip(password))]
fn fetch_row(table: &str, password: &str) -> usize {
    tracing::info!(rows = 3, password, "looked up");
    tracing::debug!("a debug event, not bridged");
    3
}

#[mcp_instrumented(method = "tools/call", target = name)]
fn lookup(name: &str) -> Result<usize, ErrorClass> {
    tracing::info!(authorization = "Bearer abc.def", "calling the database");
    Ok(fetch_row("users", "hunter2"))
}

#[test]
fn tracing_spans_and_events_join_the_call_in_jaeger() {
    let Some((jaeger, config)) = only1mcp_obs_e2e::jaeger_for("bridge", "bridge-e2e") else {
        return;
    };
    let tracing = only1mcp_obs::trace::install(&config).expect("install");
    let subscriber = tracing_subscriber::registry()
        .with(only1mcp_obs::trace::bridge::layer())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    tracing::subscriber::with_default(subscriber, || {
        // Outside any call: stays out of the traces.
        let _outside = tracing::info_span!("outside_any_call").entered();
        tracing::info!("an event outside any call");
        drop(_outside);
        lookup("accounts").expect("call");
    });
    tracing.flush().expect("flush");

    let call = jaeger
        .wait_for(
            &SpanQuery::name("tools/call accounts").service("bridge-e2e"),
            DEADLINE,
        )
        .expect("the call's span");
    let tree = jaeger
        .wait_for_trace(&call.trace_id, 2, DEADLINE)
        .expect("the call's trace");
    println!("{tree:#?}");
    assert_eq!(tree.len(), 2, "the call and the instrumented function only");
    let child = tree
        .spans()
        .iter()
        .find(|s| s.name == "fetch_row")
        .expect("fetch_row span");
    assert_eq!(child.parent_span_id.as_deref(), Some(call.span_id.as_str()));
    assert_eq!(
        child.attributes.get("table"),
        Some(&AttrValue::String("users".into()))
    );
    assert!(child.attributes.contains_key("code.line.number"));

    // The event inside fetch_row is on its span, redacted; the debug one is not there.
    let names: Vec<&str> = child.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["looked up"], "{:?}", child.events);
    let looked_up = &child.events[0];
    assert_eq!(looked_up.attributes.get("rows"), Some(&AttrValue::Int(3)));
    assert_eq!(
        looked_up.attributes.get("password"),
        Some(&AttrValue::String("[REDACTED]".into()))
    );
    // The event in the call's body is on the MCP span.
    let on_call = jaeger
        .trace(&call.trace_id)
        .expect("trace")
        .span(&call.span_id)
        .expect("call span")
        .events
        .clone();
    assert_eq!(on_call.len(), 1, "{on_call:?}");
    assert_eq!(on_call[0].name, "calling the database");
    assert_eq!(
        on_call[0].attributes.get("authorization"),
        Some(&AttrValue::String("[REDACTED]".into()))
    );
    // Nothing from outside the call was exported.
    let everything = jaeger.spans().expect("spans");
    assert!(
        everything.iter().all(|s| s.name != "outside_any_call"),
        "{everything:#?}"
    );
    only1mcp_obs::trace::clear_provider();
}
