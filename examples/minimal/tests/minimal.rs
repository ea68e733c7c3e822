//! Run on its own (`cargo test -p only1mcp-obs-minimal`): in a run over the whole workspace,
//! cargo unifies features, and the runtime is built with the defaults other members ask for.

use only1mcp_obs_minimal::{echo, runtime};
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

#[test]
fn calls_make_spans_and_count_in_the_crates_own_family_only() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    {
        let _current = runtime(Some(&provider)).enter();
        assert_eq!(echo("hi").unwrap(), "hi");
        assert!(echo("").is_err());
    }

    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert!(
        spans.iter().all(|s| s.name == "tools/call echo"),
        "{spans:#?}"
    );
    assert!(spans.iter().all(|s| s.span_kind == SpanKind::Server));
    let failed = spans.iter().find(|s| {
        s.attributes
            .iter()
            .any(|kv| kv.key.as_str() == "error.type")
    });
    assert!(
        failed.is_some(),
        "the failed call's span carries error.type: {spans:#?}"
    );

    let page = only1mcp_obs::metrics::encode_text();
    assert!(
        page.contains(r#"minimal_calls_total{method="tools/call",outcome="success"} 1"#),
        "{page}"
    );
    assert!(
        page.contains(r#"minimal_calls_total{method="tools/call",outcome="failure"} 1"#),
        "{page}"
    );
    let names: Vec<&str> = only1mcp_obs::metrics::families()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("minimal_") || n.starts_with("only1mcp_obs_")),
        "built without the `catalogue` feature, only this crate's families and the runtime's own \
         self-monitoring ones are registered: {names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("only1mcp_mcp_") || n.starts_with("mcp_"))
    );
}
