//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, server mode) against
//! the aggregator. Every scenario runs (`--suite all`: the pending ones too, among them SSE
//! polling) and the tally is printed; the scenarios that need no scenario-specific tool,
//! resource or prompt of the server under test must have no failed check.

use only1mcp_obs_e2e::peers::{self, Aggregator, Node};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The whole suite, one scenario after the other (about 3 s here).
const DEADLINE: Duration = Duration::from_secs(300);

/// The scenarios any MCP server (here, the aggregator in front of the demo backends) must pass:
/// the rest call tools, resources and prompts of the suite's own test server by name.
const REQUIRED: [&str; 10] = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "logging-set-level",
    "completion-complete",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
];

/// One scenario's checks.
#[derive(Debug, Default)]
struct Scenario {
    passed: usize,
    failed: usize,
    warnings: usize,
    /// `check: message` of each failed check.
    failures: Vec<String>,
}

/// Reads `DIR/server-<scenario>-<timestamp>/checks.json` of every scenario.
fn read_results(dir: &Path) -> BTreeMap<String, Scenario> {
    let mut scenarios = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("results directory") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // server-<scenario>-2026-11-30T13-04-05-123Z
        let Some(scenario) = name
            .strip_prefix("server-")
            .and_then(|rest| rest.rsplitn(7, '-').nth(6))
        else {
            continue;
        };
        let text = std::fs::read_to_string(path.join("checks.json")).unwrap_or_default();
        let checks: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
        let mut result = Scenario::default();
        for check in &checks {
            match check["status"].as_str() {
                Some("SUCCESS") => result.passed += 1,
                Some("WARNING") => result.warnings += 1,
                Some("FAILURE") => {
                    result.failed += 1;
                    result.failures.push(format!(
                        "{}: {}",
                        check["name"].as_str().unwrap_or("?"),
                        check["errorMessage"]
                            .as_str()
                            .or(check["description"].as_str())
                            .unwrap_or("")
                    ));
                }
                _ => {}
            }
        }
        scenarios.insert(scenario.to_owned(), result);
    }
    scenarios
}

#[test]
fn conformance_suite_against_the_aggregator() {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = Aggregator::start(dir.path(), |_| {});
    let results = dir.path().join("results");
    let cli = node
        .dir
        .join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    // Exits non-zero when any scenario fails: the tally decides here.
    let output = peers::run(
        node.command()
            .arg(cli)
            .args([
                "server",
                "--suite",
                "all",
                "--url",
                &aggregator.mcp,
                "--output-dir",
            ])
            .arg(&results)
            .current_dir(dir.path()),
        DEADLINE,
    );
    let scenarios = read_results(&results);
    let (mut passed, mut failed, mut warnings) = (0, 0, 0);
    println!("conformance scenarios against {}:", aggregator.mcp);
    for (name, s) in &scenarios {
        passed += s.passed;
        failed += s.failed;
        warnings += s.warnings;
        let mark = if s.failed == 0 { "ok  " } else { "FAIL" };
        println!(
            "  {mark} {name}: {} checks passed, {} failed, {} warnings",
            s.passed, s.failed, s.warnings
        );
        for failure in &s.failures {
            println!("         - {failure}");
        }
    }
    let clean = scenarios.values().filter(|s| s.failed == 0).count();
    println!(
        "conformance tally: {clean} of {} scenarios without a failure; checks: {passed} passed, \
         {failed} failed, {warnings} warnings",
        scenarios.len()
    );
    let broken: Vec<String> = REQUIRED
        .iter()
        .filter_map(|name| match scenarios.get(*name) {
            None => Some(format!("{name}: did not run")),
            Some(s) if s.failed > 0 || s.passed == 0 => {
                Some(format!("{name}: {}", s.failures.join("; ")))
            }
            Some(_) => None,
        })
        .collect();
    assert!(
        broken.is_empty(),
        "required conformance scenarios failed:\n  {}\nsuite output:\n{}\n{}",
        broken.join("\n  "),
        output.stdout,
        output.stderr
    );
}
