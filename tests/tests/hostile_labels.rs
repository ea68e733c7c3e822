//! Hostile label values (quotes, backslashes, newlines, braces, unicode, huge strings) are
//! escaped or sent to the overflow value; the real `promtool` accepts the page.

use only1mcp_obs::metrics::{MetricsConfig, MetricsServer, encode_text};
use only1mcp_obs::{LabelValue, metrics};
use only1mcp_obs_testkit::{http, promtool};

metrics! {
    /// A client-supplied tool name: bounded.
    pub dynamic HostileTool { max: 8, overflow: "_other", max_len: 64 }

    /// Calls per tool (hostile-input test).
    pub counter HOSTILE_CALLS = "e2e_hostile_calls_total" {
        labels: { tool: HostileTool },
    }
}

const HOSTILE: &[&str] = &[
    "quote\"d",
    "back\\slash",
    "new\nline",
    "}{,=\"",
    "tab\tand\rreturn",
    "ünïcødé ✓ 🦀",
    "\\n literally",
    "",
    "a-very-long-value-that-is-longer-than-the-sixty-four-byte-limit-of-this-domain",
    "ninth",
    "tenth",
];

#[test]
fn hostile_values_are_escaped_or_overflowed_and_promtool_accepts_them() {
    for value in HOSTILE {
        HOSTILE_CALLS.labels(HostileTool::new(value)).inc();
    }
    let page = encode_text();
    let lint = promtool::check_metrics(&page).expect(promtool::INSTALL_HINT);
    assert!(
        lint.success && lint.problems().is_empty(),
        "{:#?}",
        lint.problems()
    );
    assert!(page.contains(r#"e2e_hostile_calls_total{tool="quote\"d"} 1"#));
    assert!(page.contains(r#"e2e_hostile_calls_total{tool="back\\slash"} 1"#));
    assert!(page.contains(r#"e2e_hostile_calls_total{tool="new\nline"} 1"#));
    assert!(page.contains("e2e_hostile_calls_total{tool=\"ünïcødé ✓ 🦀\"} 1"));
    // "", the overlong value, and everything past the 8th distinct value overflow.
    assert!(
        page.contains(r#"e2e_hostile_calls_total{tool="_other"} 3"#),
        "{page}"
    );
    assert!(page.contains(
        r#"only1mcp_obs_label_overflow_total{metric="e2e_hostile_calls_total",label="tool"} 3"#
    ));
    assert!(HostileTool::new("another").index() < <HostileTool as LabelValue>::CARDINALITY);
}

#[tokio::test]
async fn served_page_has_the_right_content_type() {
    let server = MetricsServer::bind(&MetricsConfig {
        port: 0,
        ..MetricsConfig::default()
    })
    .await
    .expect("bind");
    assert!(server.local_addr().ip().is_loopback());
    let url = server.url();
    let response = tokio::task::spawn_blocking(move || http::get(&url))
        .await
        .expect("join")
        .expect("get");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some(only1mcp_obs::metrics::text::CONTENT_TYPE)
    );
    assert!(
        response
            .body
            .contains("# TYPE e2e_hostile_calls_total counter")
    );
    server.shutdown().await.expect("shutdown");
}
