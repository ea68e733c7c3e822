//! The generated rules and dashboards against the real tools of both generations (Prometheus
//! 3.16 / Alertmanager 0.35 and 2.42 / 0.25): `promtool check rules`, `promtool test rules`,
//! `amtool check-config`, and a live Prometheus that parses every query, loads the rules with
//! health ok, returns data for every panel after a workload, and fires a burn-rate alert that
//! reaches the Alertmanager webhook.

use only1mcp_obs_generate::rules;
use only1mcp_obs_testkit::backend::{self, Backend};
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::promtool;
use only1mcp_obs_testkit::stack::LiveStack;
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    only1mcp_obs_e2e::workspace_root()
}

fn tools_accept_the_generated_files(generation: Generation) {
    let test = format!("promtool_and_amtool[{}]", generation.short());
    if let Err(e) = promtool::path_for(generation) {
        assert!(!backend::required("process"), "[{test}] {e}");
        eprintln!("[{test}] SKIPPED: {e}");
        return;
    }
    let rules_file = root().join("alerts/only1mcp.rules.yml");
    let check = promtool::check_rules_with(generation, &[&rules_file]).expect("promtool");
    assert!(check.success, "{generation}: {:#?}", check.problems());
    let tests = promtool::test_rules_with(
        generation,
        &[&root().join("alerts/only1mcp.rules.test.yml")],
    )
    .expect("promtool");
    assert!(
        tests.success,
        "{generation}: promtool test rules failed: {:#?}",
        tests.problems()
    );
    let cases = rules::all_alerts()
        .expect("alerts")
        .iter()
        .map(|a| a.tests.len())
        .sum::<usize>();
    assert!(cases >= 20, "{cases} cases");
    // The deployment's Prometheus configuration is valid for both generations.
    let deploy = root().join("deploy/prometheus.yml");
    let deploy = deploy.to_str().expect("utf-8");
    let config =
        promtool::run_with(generation, &["check", "config", deploy], b"").expect("promtool");
    assert!(config.success, "{generation}: {:#?}", config.problems());
    for config in ["alertmanager/alertmanager.yml", "deploy/alertmanager.yml"] {
        let am =
            promtool::amtool_check_config_with(generation, &root().join(config)).expect("amtool");
        assert!(
            am.success,
            "{generation}: amtool check-config {config}: {:#?}",
            am.problems()
        );
    }
}

#[test]
fn promtool_and_amtool_accept_the_generated_files_prometheus3() {
    tools_accept_the_generated_files(Generation::Current);
}

#[test]
fn promtool_and_amtool_accept_the_generated_files_prometheus2() {
    tools_accept_the_generated_files(Generation::Legacy);
}

#[test]
fn generated_rules_and_panels_on_live_prometheus3() {
    generated_rules_and_panels(Generation::Current);
}

#[test]
fn generated_rules_and_panels_on_live_prometheus2() {
    generated_rules_and_panels(Generation::Legacy);
}

fn generated_rules_and_panels(generation: Generation) {
    let backend = Backend::from_env();
    let test = format!("generated_rules_and_panels[{}]", generation.short());
    if !backend.announce_for(&test, generation) {
        return;
    }
    let exporter = only1mcp_obs_e2e::Exporter::start();
    // The generated rules exactly, evaluated every second instead of every 30 s so the test is quick.
    let generated =
        std::fs::read_to_string(root().join("alerts/only1mcp.rules.yml")).expect("rules");
    let fast = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        fast.path(),
        generated.replace("interval: \"30s\"", "interval: \"1s\""),
    )
    .expect("write");
    let stack = LiveStack::builder(backend)
        .generation(generation)
        .scrape(exporter.target())
        .rule_file(fast.path())
        .with_alertmanager()
        .start()
        .expect("live stack");
    let p = &stack.prometheus;
    // Traffic goes on while Prometheus scrapes, so rates and burn rates are not zero.
    let traffic = only1mcp_obs_e2e::catalogue::Traffic::start();

    let panels = only1mcp_obs_e2e::catalogue::panel_queries();
    let alerts = rules::all_alerts().expect("alerts");
    // Every panel, every alert rule, and every query its runbook page shows.
    let runbook_queries = alerts.iter().flat_map(|a| {
        a.queries
            .iter()
            .map(move |(_, q)| (a.name.as_str(), q.as_str()))
    });
    for (what, expr) in panels
        .iter()
        .map(|(t, e)| (t.as_str(), e.as_str()))
        .chain(alerts.iter().map(|a| (a.name.as_str(), a.expr.as_str())))
        .chain(runbook_queries)
    {
        if let Err(e) = p.check_expr(expr) {
            panic!("{what}: Prometheus rejects `{expr}`: {e}");
        }
    }

    // Two scrapes give every rate() a value.
    p.eventually(
        "count(only1mcp_mcp_requests_total)",
        |s| !s.is_empty(),
        Duration::from_secs(15),
    )
    .expect("first scrape");
    only1mcp_obs_e2e::catalogue::every_panel_returns_data(p, &panels);

    let healthy = only1mcp_obs_testkit::poll(Duration::from_secs(10), || {
        let rules = p.rules();
        (rules.len() == alerts.len() && rules.iter().all(|r| r.health == "ok")).then_some(rules)
    });
    assert!(healthy.is_ok(), "rules not all healthy: {:#?}", p.rules());

    let am = stack.alertmanager.as_ref().expect("alertmanager");
    let alert = am
        .wait_for_alert("SLOAvailabilityFastBurn", Duration::from_secs(15))
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", p.rules()));
    assert_eq!(alert["labels"]["slo"], "only1mcp_mcp_requests_total");
    assert_eq!(alert["labels"]["severity"], "critical");
    drop(traffic);
}
