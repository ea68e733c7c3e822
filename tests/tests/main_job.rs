//! The README's main job: the catalogue example serves every declared family on `/metrics`, and
//! the real `promtool check metrics` accepts the page without a word.

use only1mcp_obs::metrics::families;
use only1mcp_obs_e2e::{ChildGuard, example_binary};
use only1mcp_obs_testkit::{http, poll, promtool};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn main_job_serves_every_family_and_promtool_accepts_it() {
    let binary = example_binary("only1mcp-obs", "catalogue");
    let mut child = Command::new(&binary)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("metrics: ").map(str::to_owned))
        .expect("the example prints `metrics: URL`");
    // Keep reading what it prints, so it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "binds loopback by default: {url}"
    );

    // Wait until the synthetic traffic has filled the page (a few 200 ms rounds), then check it.
    let samples = |body: &str| body.lines().filter(|l| !l.starts_with('#')).count();
    let page = poll(Duration::from_secs(15), || {
        let response = http::get(&url).ok()?;
        (samples(&response.body) > 300).then_some(response)
    })
    .unwrap_or_else(|e| panic!("{url} never filled with samples: {e}"));
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );

    let lint = promtool::check_metrics(&page.body).expect(promtool::INSTALL_HINT);
    assert!(
        lint.success && lint.problems().is_empty(),
        "promtool check metrics complained: {:#?}",
        lint.problems()
    );

    let declared = families();
    assert!(declared.len() >= 16, "catalogue: {}", declared.len());
    let missing: Vec<_> = declared
        .iter()
        .filter(|d| {
            !page
                .body
                .contains(&format!("# TYPE {} {}\n", d.name, d.kind.as_str()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "declared but not on /metrics: {:?}",
        missing.iter().map(|d| d.name).collect::<Vec<_>>()
    );
    for family in [
        "only1mcp_mcp_requests_total{",
        "only1mcp_backend_latency_seconds_bucket{",
        "mcp_server_operation_duration_seconds_bucket{",
    ] {
        assert!(page.body.contains(family), "no series of {family}");
    }
    drop(guard);
}
