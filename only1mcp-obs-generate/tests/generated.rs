//! The generated dashboards, rules and deployment files are well formed and name declared
//! metrics only. (That the committed copies are what the application generates is checked
//! against the aggregator's binary, in the workspace's end-to-end tests.)

use only1mcp_obs::metrics::families;
use only1mcp_obs_generate::{Generator, dashboards, rules};
use serde_json::Value;

fn artifacts() -> Result<Vec<only1mcp_obs_generate::Artifact>, only1mcp_obs_generate::GenerateError>
{
    Generator::new("generated-test").artifacts()
}

/// Every `name{`, `name[` or `name)` token that looks like a metric must be a declared family
/// (or one of a histogram's series).
fn undeclared_metrics(expr: &str) -> Vec<String> {
    let mut known: Vec<String> = Vec::new();
    for d in families() {
        known.push(d.name.to_owned());
        for suffix in ["_bucket", "_count", "_sum"] {
            known.push(format!("{}{suffix}", d.name));
        }
    }
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
        {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
            {
                i += 1;
            }
            let word = &expr[start..i];
            let next = bytes.get(i).copied();
            let is_metric = (word.starts_with("only1mcp_") || word.starts_with("mcp_"))
                && matches!(next, Some(b'{' | b'[' | b')' | b' ') | None);
            let is_label = families()
                .iter()
                .any(|d| d.labels.iter().any(|l| l.name == word));
            if is_metric && !is_label && !known.iter().any(|k| k == word) {
                out.push(word.to_owned());
            }
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_query_names_declared_metrics_only() {
    let mut exprs: Vec<(String, String)> = Vec::new();
    for dashboard in dashboards::all().expect("dashboards") {
        exprs.extend(
            dashboard
                .queries()
                .into_iter()
                .map(|(title, expr)| (format!("{}: {title}", dashboard.uid), expr)),
        );
    }
    for alert in rules::all_alerts().expect("alerts") {
        exprs.push((alert.name.clone(), alert.expr.clone()));
    }
    for (what, expr) in &exprs {
        let bad = undeclared_metrics(expr);
        assert!(
            bad.is_empty(),
            "{what} names undeclared metrics {bad:?}: {expr}"
        );
    }
    assert!(exprs.len() > 30, "{}", exprs.len());
}

#[test]
fn dashboards_are_well_formed() {
    for dashboard in dashboards::all().expect("dashboards") {
        let json = dashboards::render(&dashboard);
        assert!(json["schemaVersion"].as_u64().is_some_and(|v| v >= 39));
        assert_eq!(json["templating"]["list"][0]["type"], "datasource");
        let panels = json["panels"].as_array().expect("panels");
        let mut ids: Vec<u64> = panels
            .iter()
            .map(|p| p["id"].as_u64().expect("id"))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            panels.len(),
            "unique panel ids in {}",
            dashboard.uid
        );
        let rect = |p: &Value| {
            let g = &p["gridPos"];
            let n = |k: &str| g[k].as_u64().expect("gridPos");
            (n("x"), n("y"), n("w"), n("h"))
        };
        for (i, a) in panels.iter().enumerate() {
            let (ax, ay, aw, ah) = rect(a);
            assert!(
                ax + aw <= 24,
                "{} panel {} exceeds the grid",
                dashboard.uid,
                a["title"]
            );
            if a["type"] != "row" {
                assert!(
                    a["fieldConfig"]["defaults"]["unit"]
                        .as_str()
                        .is_some_and(|u| !u.is_empty()),
                    "unit on {}",
                    a["title"]
                );
                assert_eq!(a["datasource"]["uid"], "${datasource}");
            }
            for b in &panels[i + 1..] {
                let (bx, by, bw, bh) = rect(b);
                let overlap = ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
                assert!(
                    !overlap,
                    "{}: {} overlaps {}",
                    dashboard.uid, a["title"], b["title"]
                );
            }
        }
    }
}

#[test]
fn five_dashboards_and_the_seed_alerts() {
    let files = artifacts().expect("artifacts");
    assert_eq!(
        files
            .iter()
            .filter(|f| f.path.starts_with("dashboards/"))
            .count(),
        5
    );
    let names: Vec<String> = rules::all_alerts()
        .expect("alerts")
        .into_iter()
        .map(|a| a.name)
        .collect();
    for seed in [
        "HighP99Latency",
        "HighErrorRate",
        "LowCacheHitRate",
        "HighAPICosts",
        "BackendDown",
        "HighMemoryUsage",
    ] {
        assert!(
            names.iter().any(|n| n == seed),
            "{seed} missing from {names:?}"
        );
    }
    for slo in [
        "SLOAvailabilityFastBurn",
        "SLOAvailabilitySlowBurn",
        "SLOLatencyFastBurn",
        "SLOLatencySlowBurn",
    ] {
        assert!(
            names.iter().any(|n| n == slo),
            "{slo} missing from {names:?}"
        );
    }
    // The error-rate alert selects the status domain's error values, not an HTTP code regex.
    let high_errors = rules::seed_alerts()
        .expect("alerts")
        .into_iter()
        .find(|a| a.name == "HighErrorRate")
        .expect("alert");
    assert!(
        high_errors.expr.contains(r#"status=~"error|timeout""#),
        "{}",
        high_errors.expr
    );
    // Deployment files publish ports on loopback only and pin every image.
    let compose = files
        .iter()
        .find(|f| f.path == "deploy/docker-compose.monitoring.yml")
        .expect("compose");
    let yaml: serde_json::Value = serde_norway::from_str(&compose.content).expect("compose yaml");
    for (name, service) in yaml["services"].as_object().expect("services") {
        for port in service["ports"].as_array().into_iter().flatten() {
            assert!(
                port.as_str().is_some_and(|p| p.starts_with("127.0.0.1:")),
                "{name} publishes {port}"
            );
        }
        let image = service["image"].as_str().expect("image");
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(
            !tag.is_empty() && tag != "latest",
            "{name} image {image} is not pinned"
        );
    }
}

#[test]
fn every_alert_links_to_its_generated_runbook() {
    let files = artifacts().expect("generate");
    let alerts = rules::all_alerts().expect("alerts");
    for alert in &alerts {
        let url = alert
            .annotations
            .iter()
            .find(|(k, _)| k == "runbook_url")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{} has no runbook_url", alert.name));
        let file = url
            .strip_prefix(rules::RUNBOOK_BASE)
            .unwrap_or_else(|| panic!("{url} is not under {}", rules::RUNBOOK_BASE));
        let path = format!("docs/runbooks/{file}");
        let page = files
            .iter()
            .find(|a| a.path == path)
            .unwrap_or_else(|| panic!("{}: no page {path}", alert.name));
        for part in [
            "## What it means",
            "## Queries to look at",
            "## First steps",
            "1. ",
            alert.expr.as_str(),
        ] {
            assert!(page.content.contains(part), "{path} lacks {part:?}");
        }
        assert!(!alert.queries.is_empty(), "{} has no queries", alert.name);
        for test in &alert.tests {
            assert!(
                page.content.contains(&test.name),
                "{path} lacks test {}",
                test.name
            );
        }
    }
    let index = files
        .iter()
        .find(|a| a.path == "docs/runbooks/README.md")
        .expect("index");
    assert_eq!(index.content.matches("](").count(), alerts.len());
}

/// An application's own policy, declared with the typed references of a catalogue family, gets
/// a rule, `promtool` cases with the value it renders, and a runbook page.
#[test]
fn an_application_policy_gets_a_rule_cases_and_a_runbook() {
    use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, RequestStatus};
    use only1mcp_obs::metrics::alert::{AlertCase, AlertPolicy, Firing, Input};

    let total = MCP_REQUESTS_TOTAL.promql().name();
    let status = MCP_REQUESTS_TOTAL.label_refs().status;
    let policy = AlertPolicy {
        group: "my_proxy",
        name: "AnyRequestTimingOut",
        expr: format!(
            "sum(rate({total}{{{}}}[5m])) > 0",
            status.is(RequestStatus::Timeout)
        ),
        for_: "5m",
        labels: &[("severity", "warning"), ("team", "platform")],
        summary: "Requests time out ({{ $value | humanize }}/s)",
        description: "A backend does not answer in time.",
        steps: &["Open a timed-out call's trace."],
        queries: vec![(
            "timeouts by backend",
            format!("sum by (server_id) (rate({total}[5m]))"),
        )],
        cases: vec![AlertCase {
            name: "one timeout a minute",
            input: vec![Input::new(
                format!("{total}{{{}}}", status.is(RequestStatus::Timeout)),
                "0+60x20",
            )],
            eval_time: "10m",
            fires: Some(Firing::showing("1")),
        }],
    };
    let files = Generator::new("generated-test")
        .alert(policy)
        .artifacts()
        .expect("artifacts");
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} not generated"))
            .content
            .clone()
    };
    let rules: Value = serde_norway::from_str(&file("alerts/only1mcp.rules.yml")).expect("yaml");
    let groups = rules["groups"].as_array().expect("groups");
    let mine = groups
        .iter()
        .find(|g| g["name"] == "my_proxy")
        .expect("the policy's group");
    assert_eq!(mine["rules"][0]["alert"], "AnyRequestTimingOut");
    assert_eq!(
        mine["rules"][0]["expr"],
        r#"sum(rate(only1mcp_mcp_requests_total{status="timeout"}[5m])) > 0"#
    );
    let tests: Value =
        serde_norway::from_str(&file("alerts/only1mcp.rules.test.yml")).expect("yaml");
    let case = tests["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["name"] == "AnyRequestTimingOut: one timeout a minute")
        .expect("the policy's case");
    let expected = &case["alert_rule_test"][0]["exp_alerts"][0];
    assert_eq!(
        expected["exp_annotations"]["summary"],
        "Requests time out (1/s)"
    );
    let page = file("docs/runbooks/any-request-timing-out.md");
    assert!(page.contains("Open a timed-out call's trace."), "{page}");
    // The catalogue's six are still there.
    assert!(groups.iter().any(|g| g["name"] == "only1mcp_sla"));
}
