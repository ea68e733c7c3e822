//! What differs between the two generations of the stack the testkit runs (Prometheus 3.16 /
//! Alertmanager 0.35, and Prometheus 2.42 / Alertmanager 0.25), each difference pinned by a test
//! against the real binaries (local processes), so that a change of either release is noticed.

use only1mcp_obs_testkit::alertmanager::Alertmanager;
use only1mcp_obs_testkit::backend::{Backend, Component};
use only1mcp_obs_testkit::generation::Generation;
use only1mcp_obs_testkit::http;
use only1mcp_obs_testkit::prometheus::{Prometheus, PrometheusConfig, Sample};
use only1mcp_obs_testkit::promtool;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// A page with a classic histogram whose bounds are integers, and a counter.
const PAGE: &str = "# HELP gen_wait_seconds Waits.\n# TYPE gen_wait_seconds histogram\n\
gen_wait_seconds_bucket{le=\"0.5\"} 1\ngen_wait_seconds_bucket{le=\"1\"} 2\n\
gen_wait_seconds_bucket{le=\"10\"} 3\ngen_wait_seconds_bucket{le=\"+Inf\"} 3\n\
gen_wait_seconds_sum 12.5\ngen_wait_seconds_count 3\n\
# HELP gen_calls_total Calls.\n# TYPE gen_calls_total counter\ngen_calls_total 4\n";

/// Serves [`PAGE`] on 127.0.0.1 with the given `Content-Type` (none when `None`) until dropped.
struct Target {
    address: String,
    stop: Arc<AtomicBool>,
}

impl Target {
    fn start(content_type: Option<&'static str>) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                answer(stream, content_type);
            }
        });
        Target { address, stop }
    }
}

fn answer(stream: std::net::TcpStream, content_type: Option<&str>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let header = content_type.map_or(String::new(), |t| format!("Content-Type: {t}\r\n"));
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
        PAGE.len()
    );
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(&self.address);
    }
}

fn prometheus(generation: Generation, test: &str, config: PrometheusConfig) -> Option<Prometheus> {
    let backend = Backend::Process;
    let test = format!("{test}[{}]", generation.short());
    if !backend.announce_components(&test, generation, &[Component::Prometheus]) {
        return None;
    }
    Some(Prometheus::start(backend, config.generation(generation)).expect("prometheus"))
}

fn up(p: &Prometheus) -> Result<Vec<Sample>, only1mcp_obs_testkit::WaitError> {
    p.eventually(
        "up",
        |s| s.first().is_some_and(|s| s.value == 1.0),
        DEADLINE,
    )
}

/// Prometheus 2 parses a page without `Content-Type` as text; Prometheus 3 fails the scrape
/// unless the scrape config names a fallback protocol (which Prometheus 2 would reject, so the
/// testkit writes it for Prometheus 3 only).
#[test]
fn a_target_without_content_type_needs_a_fallback_protocol_on_prometheus3() {
    let target = Target::start(None);
    let config = || PrometheusConfig::default().scrape(target.address.clone());
    if let Some(p) = prometheus(Generation::Legacy, "no_content_type", config()) {
        up(&p).expect("Prometheus 2 scrapes it");
    }
    let with_fallback = config().fallback_scrape_protocol("PrometheusText0.0.4");
    if let Some(p) = prometheus(
        Generation::Legacy,
        "no_content_type_fallback",
        with_fallback.clone(),
    ) {
        up(&p).expect("Prometheus 2 runs without the setting it does not know");
    }
    if let Some(p) = prometheus(Generation::Current, "no_content_type", config()) {
        let down = only1mcp_obs_testkit::poll(DEADLINE, || {
            p.targets()
                .into_iter()
                .find(|t| t.health == "down" && !t.last_error.is_empty())
        })
        .expect("Prometheus 3 fails the scrape");
        assert!(
            down.last_error.contains("Content-Type"),
            "{}",
            down.last_error
        );
        assert!(
            down.last_error.contains("fallback_scrape_protocol"),
            "{}",
            down.last_error
        );
    }
    if let Some(p) = prometheus(
        Generation::Current,
        "no_content_type_fallback",
        with_fallback,
    ) {
        up(&p).expect("Prometheus 3 scrapes it with the fallback");
    }
}

/// Prometheus 3 stores the `le` of classic histograms as floats (`"1"` becomes `"1.0"`), so a
/// selector on `le="1"` that works on Prometheus 2 finds nothing there; fractional bounds and
/// `+Inf` are the same on both.
#[test]
fn prometheus3_normalises_integral_bucket_bounds() {
    let target = Target::start(Some("text/plain; version=0.0.4; charset=utf-8"));
    for generation in Generation::ALL {
        let config = PrometheusConfig::default().scrape(target.address.clone());
        let Some(p) = prometheus(generation, "bucket_bounds", config) else {
            continue;
        };
        let bounds = p
            .eventually("gen_wait_seconds_bucket", |s| s.len() == 4, DEADLINE)
            .expect("buckets");
        let mut les: Vec<&str> = bounds.iter().map(|s| s.labels["le"].as_str()).collect();
        les.sort_unstable();
        let expected = match generation {
            Generation::Current => ["+Inf", "0.5", "1.0", "10.0"],
            Generation::Legacy => ["+Inf", "0.5", "1", "10"],
        };
        assert_eq!(les, expected, "{generation}");
        let one = r#"gen_wait_seconds_bucket{le="1"}"#;
        let found = p.returns_data(one).expect("query");
        assert_eq!(
            found,
            generation == Generation::Legacy,
            "{generation}: {one}"
        );
        // A selector that works on both.
        let both = r#"gen_wait_seconds_bucket{le=~"1(\\.0)?"}"#;
        assert!(p.returns_data(both).expect("query"), "{generation}: {both}");
    }
}

const RULES: &str = "groups:\n  - name: g\n    rules:\n      - alert: GenFires\n        expr: gen_x > 0\n        labels:\n          severity: critical\n";

/// A rule test whose expected alert has the wrong severity.
const FAILING_TEST: &str = "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: gen_x\n        values: '1 1 1'\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: GenFires\n        exp_alerts:\n          - exp_labels:\n              severity: warning\n";

/// `promtool test rules` fails the same way on both (exit 1, a `FAILED:` block with what was
/// expected and what came), but announces each file differently ("Processing test file:" on 3,
/// "Unit Testing:" on 2.42), and only Prometheus 3's writes JUnit XML (`--junit`).
#[test]
fn promtool_test_rules_reports_a_failing_case_on_both_generations() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("rules.yml"), RULES).expect("write");
    let tests = dir.path().join("tests.yml");
    std::fs::write(&tests, FAILING_TEST).expect("write");
    for generation in Generation::ALL {
        let Some(_) = tool(generation) else { continue };
        let outcome = promtool::test_rules_with(generation, &[&tests]).expect("promtool");
        assert_eq!(
            (outcome.success, outcome.code),
            (false, Some(1)),
            "{outcome:?}"
        );
        let text = outcome.problems().join("\n");
        assert!(text.contains("FAILED:"), "{generation}: {text}");
        assert!(
            text.contains(r#"severity="warning""#),
            "{generation}: {text}"
        );
        assert!(
            text.contains(r#"severity="critical""#),
            "{generation}: {text}"
        );
        let header = match generation {
            Generation::Current => "Processing test file:",
            Generation::Legacy => "Unit Testing:",
        };
        assert!(
            outcome.stdout.starts_with(header),
            "{generation}: {}",
            outcome.stdout
        );
    }
    if tool(Generation::Current).is_some() {
        let junit = dir.path().join("junit.xml");
        let flag = format!("--junit={}", junit.display());
        let args = [
            "test",
            "rules",
            flag.as_str(),
            tests.to_str().expect("utf-8"),
        ];
        let outcome = promtool::run_with(Generation::Current, &args, b"").expect("promtool");
        assert!(!outcome.success);
        let xml = std::fs::read_to_string(&junit).expect("JUnit file");
        assert!(xml.contains(r#"failures="1""#), "{xml}");
    }
}

/// `generation`'s promtool, or `None` (said on the terminal) when it is missing and not required.
fn tool(generation: Generation) -> Option<std::path::PathBuf> {
    match promtool::path_for(generation) {
        Ok(path) => Some(path),
        Err(e) => {
            assert!(!only1mcp_obs_testkit::backend::required("process"), "{e}");
            eprintln!("[promtool {}] SKIPPED: {e}", generation.short());
            None
        }
    }
}

/// Alertmanager 0.35 has removed the v1 API (410 Gone; 0.25 still served it, deprecated) and
/// reports `mutedBy` (time-interval muting) in each alert's status, which 0.25 lacks. The v2
/// API, which Prometheus and the testkit use, is otherwise the same on both.
#[test]
fn alertmanager_0_35_removed_api_v1_and_reports_muted_by() {
    for generation in Generation::ALL {
        let test = format!("alertmanager_api[{}]", generation.short());
        if !Backend::Process.announce_components(&test, generation, &[Component::Alertmanager]) {
            continue;
        }
        let am = Alertmanager::start_with(Backend::Process, generation).expect("alertmanager");
        assert_eq!(
            am.version().expect("status"),
            generation.alertmanager_version()
        );
        let alert = r#"[{"labels":{"alertname":"GenPosted","severity":"critical"}}]"#;
        let url = format!("http://{}/api/v2/alerts", am.address());
        let posted = http::post(&url, "application/json", alert.as_bytes()).expect("post");
        assert_eq!(posted.status, 200, "{generation}: {}", posted.body);
        let held = only1mcp_obs_testkit::poll(DEADLINE, || {
            am.alerts().ok().and_then(|a| {
                a.into_iter()
                    .find(|a| a["labels"]["alertname"] == "GenPosted")
            })
        })
        .expect("alert held");
        assert_eq!(held["status"]["state"], "active");
        let muted_by = held["status"].get("mutedBy");
        assert_eq!(
            muted_by.is_some(),
            generation == Generation::Current,
            "{generation}: {held}"
        );
        let v1 = http::get(&format!("http://{}/api/v1/alerts", am.address())).expect("get");
        let expected = match generation {
            Generation::Current => 410,
            Generation::Legacy => 200,
        };
        assert_eq!(v1.status, expected, "{generation}: {}", v1.body);
        // The 0.35 built here has a placeholder instead of the web UI (not in the Go module).
        let ui = http::get(&format!("http://{}/", am.address())).expect("get");
        assert_eq!(ui.status, 200, "{generation}");
        let placeholder = ui.body.contains("without the web UI");
        assert_eq!(
            placeholder,
            generation == Generation::Current,
            "{generation}: {}",
            ui.body
        );
        // The webhook notification arrives the same way on both.
        let delivered = am
            .wait_for_alert("GenPosted", DEADLINE)
            .expect("notification");
        assert_eq!(delivered["labels"]["severity"], "critical");
    }
}
