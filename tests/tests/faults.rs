//! The main job under hostile traffic and faults, over HTTP: made-up tool names never take a
//! real tool's series, the cache stays bounded and private, huge names against a black-holed
//! collector are all answered in bounded memory, and a hung backend times out alone.

use only1mcp_obs_e2e::mcp_http::{Aggregator, Session, until};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);
/// Concurrent sessions driving each load.
const SESSIONS: u64 = 8;

/// Runs `per_session` calls on each of [`SESSIONS`] sessions at once; `make(i)` gives call
/// `i`'s tool and arguments. Every call must be answered.
async fn drive(
    url: &str,
    total: u64,
    make: impl Fn(u64) -> (String, serde_json::Value) + Send + Sync + Clone + 'static,
) {
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..SESSIONS {
        let session = Session::open(http.clone(), url, &format!("load-{s}")).await;
        let make = make.clone();
        tasks.spawn(async move {
            for i in (s..total).step_by(SESSIONS as usize) {
                let (tool, arguments) = make(i);
                let body = session.call(i, &tool, arguments).await;
                assert!(
                    body.contains("\"jsonrpc\""),
                    "call {i} got no answer: {body:.200}"
                );
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a load task");
    }
}

async fn page(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}

/// Distinct `gen_ai_tool_name` values of the server operation histogram.
fn tool_values(metrics: &str) -> HashSet<String> {
    metrics
        .lines()
        .filter(|l| l.starts_with("mcp_server_operation_duration_seconds_count"))
        .filter_map(|l| {
            let rest = &l[l.find("gen_ai_tool_name=\"")? + "gen_ai_tool_name=\"".len()..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_tool_names_through_http_never_take_a_real_tools_series() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let aggregator = Aggregator::start(&["--audit", audit.to_str().expect("path")], &[]);
    let before = aggregator.resident_bytes();
    drive(aggregator.mcp(), 20_000, |i| {
        (format!("made_up_{i}"), serde_json::json!({}))
    })
    .await;
    let grown = aggregator.resident_bytes().saturating_sub(before);
    // A real tool first called after the burst.
    let http = reqwest::Client::new();
    let session = Session::open(http, aggregator.mcp(), "after").await;
    let body = session
        .call(1, "search_echo", serde_json::json!({ "text": "real" }))
        .await;
    assert!(body.contains("search: real"), "{body}");

    let metrics = page(&format!("{}/metrics", aggregator.base())).await;
    let values = tool_values(&metrics);
    println!(
        "20 000 made-up names over HTTP: tool label values {values:?}; aggregator memory grew {} KiB",
        grown / 1024
    );
    assert!(values.contains("search_echo"), "{values:?}");
    assert!(
        !values.iter().any(|v| v.starts_with("made_up")),
        "{values:?}"
    );
    assert!(values.len() <= 33, "{values:?}");
    assert!(grown < 64 << 20, "resident memory grew {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_arguments_keep_the_cache_bounded_and_private() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let aggregator = Aggregator::start(&["--audit", audit.to_str().expect("path")], &[]);
    let http = reqwest::Client::new();
    // One client's result is never another's.
    let a = Session::open(http.clone(), aggregator.mcp(), "client-a").await;
    let b = Session::open(http.clone(), aggregator.mcp(), "client-b").await;
    let same = serde_json::json!({ "text": "shared question" });
    a.call(1, "files_echo", same.clone()).await;
    a.call(2, "files_echo", same.clone()).await;
    b.call(3, "files_echo", same.clone()).await;

    let before = aggregator.resident_bytes();
    // 100 000 by default (about 5 min in a debug build on 2 cores); ONLY1MCP_FAULT_CALLS
    // changes it.
    let total = std::env::var("ONLY1MCP_FAULT_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let start = Instant::now();
    drive(aggregator.mcp(), total, |i| {
        (
            "files_echo".to_owned(),
            serde_json::json!({ "text": format!("argument {i}") }),
        )
    })
    .await;
    let took = start.elapsed();
    let grown = aggregator.resident_bytes().saturating_sub(before);
    let ready: serde_json::Value =
        serde_json::from_str(&page(&format!("{}/health/ready", aggregator.base())).await)
            .expect("readiness JSON");
    let detail = ready["checks"]["cache"]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let numbers: Vec<u64> = detail
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    println!(
        "{total} distinct arguments over HTTP in {took:?}: cache {detail}; aggregator memory grew {} KiB",
        grown / 1024
    );
    let (entries, bytes) = (numbers[0], numbers[1]);
    assert!(entries <= 4096 && bytes <= 16 << 20, "{detail}");
    assert!(grown < 96 << 20, "resident memory grew {grown} bytes");

    let records = until(DEADLINE, || async {
        let read = only1mcp_obs::audit::read(&audit).ok()?;
        let of = |actor: &str| {
            read.records
                .iter()
                .filter(|r| r.actor == actor)
                .map(|r| r.outcome.clone())
                .collect::<Vec<_>>()
        };
        let (a, b) = (of("client-a"), of("client-b"));
        (a.len() == 2 && b.len() == 1).then_some((a, b))
    })
    .await
    .expect("the audit records of both clients");
    assert_eq!(
        records.0,
        ["success", "success_cached"],
        "client-a reuses its own result"
    );
    assert_eq!(
        records.1,
        ["success"],
        "client-b never gets client-a's result"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabyte_tool_names_against_a_black_holed_collector_are_all_answered() {
    let collector = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", collector.local_addr().expect("addr"));
    let held =
        std::thread::spawn(move || collector.incoming().take(8).flatten().collect::<Vec<_>>());
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let aggregator = Aggregator::start(
        &["--audit", audit.to_str().expect("path")],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    );
    let before = aggregator.resident_bytes();
    drive(aggregator.mcp(), 200, |i| {
        (format!("{i}{}", "x".repeat(1 << 20)), serde_json::json!({}))
    })
    .await;
    let grown = aggregator.resident_bytes().saturating_sub(before);
    println!(
        "200 tool names of 1 MiB, collector black-holed: memory grew {} KiB",
        grown / 1024
    );
    assert!(grown < 128 << 20, "resident memory grew {grown} bytes");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_backend_times_out_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let timeout = Duration::from_secs(2);
    let aggregator = Aggregator::start(
        &[
            "--audit",
            audit.to_str().expect("path"),
            "--call-timeout",
            "2",
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let session = Session::open(http, aggregator.mcp(), "hang-test").await;
    let files = aggregator.backend_pid("files").to_string();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &files])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {sig} {files}");
    };
    // Stopped, the backend still accepts connections (the kernel does) but never answers.
    signal("-STOP");
    // The signal is delivered asynchronously: the call is made once the kernel says the whole
    // process is stopped (state `T` in /proc/PID/stat).
    let stat = format!("/proc/{files}/stat");
    until(DEADLINE, || {
        let stat = stat.clone();
        async move {
            let text = std::fs::read_to_string(&stat).ok()?;
            let state = text.rsplit_once(')')?.1.split_whitespace().next()?;
            (state == "T").then_some(())
        }
    })
    .await
    .expect("the backend stops");
    let start = Instant::now();
    let hung = session
        .call(1, "files_echo", serde_json::json!({ "text": "anyone?" }))
        .await;
    let waited = start.elapsed();
    println!("a call to a hung backend answered after {waited:?} (deadline {timeout:?})");
    assert!(hung.contains("\"error\""), "{hung}");
    assert!(
        waited < timeout * 3,
        "the deadline did not hold: {waited:?}"
    );
    let other = session
        .call(
            2,
            "search_echo",
            serde_json::json!({ "text": "still here" }),
        )
        .await;
    assert!(other.contains("search: still here"), "{other}");

    let ready = format!("{}/health/ready", aggregator.base());
    let report = until(DEADLINE, || async {
        let body = reqwest::get(&ready).await.ok()?.text().await.ok()?;
        body.contains("unreachable: files").then_some(body)
    })
    .await;
    signal("-CONT");
    let report = report.expect("readiness names the hung backend");
    assert!(
        !report.contains("search"),
        "only the hung backend is down: {report}"
    );
    until(DEADLINE, || async {
        let response = reqwest::get(&ready).await.ok()?;
        response.status().is_success().then_some(())
    })
    .await
    .expect("readiness recovers when the backend answers again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_answer_only_the_hosts_mcp_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let audit = dir.path().join("audit.log");
    let aggregator = Aggregator::start(&["--audit", audit.to_str().expect("path")], &[]);
    let http = reqwest::Client::new();
    for path in ["/metrics", "/health/live", "/health/ready"] {
        let url = format!("{}{path}", aggregator.base());
        let status = |host: &'static str| {
            let request = http.get(&url).header("host", host);
            async move { request.send().await.expect("GET").status().as_u16() }
        };
        // A page of a site whose name resolves to 127.0.0.1 (DNS rebinding) is refused.
        assert_eq!(status("evil.example").await, 403, "{path}");
        assert_eq!(status("evil.example:80").await, 403, "{path}");
        assert_eq!(status("localhost").await, 200, "{path}");
        assert_eq!(status("127.0.0.1:9").await, 200, "{path}");
    }
}

#[test]
fn the_verify_command_names_the_changed_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.log");
    let mut config = only1mcp_obs::audit::AuditConfig::default();
    config.output.path = path.clone();
    let log = only1mcp_obs::audit::AuditLog::open(&config).expect("open");
    for tool in ["a", "b", "c"] {
        let event = only1mcp_obs::audit::AuditEvent::ToolInvocation {
            server_id: "files".into(),
            tool: tool.into(),
        };
        log.record("me", &event, "success").expect("record");
    }
    drop(log);
    let verify = || {
        std::process::Command::new(only1mcp_obs_e2e::workspace_binary(
            "only1mcp-aggregator",
            "only1mcp-aggregator",
        ))
        .arg("--verify-audit")
        .arg(&path)
        .output()
        .expect("run --verify-audit")
    };
    let intact = verify();
    let said = String::from_utf8_lossy(&intact.stdout).into_owned();
    assert!(
        intact.status.success() && said.contains("intact, 3 records"),
        "{said}"
    );
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("\"tool\":\"b\"", "\"tool\":\"x\"")).expect("edit");
    let broken = verify();
    let said = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert_eq!(broken.status.code(), Some(1), "{said}");
    assert!(said.contains("BROKEN at line 2 (seq 1)"), "{said}");
}
