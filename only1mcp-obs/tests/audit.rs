//! The audit log: concurrent writers lose nothing, a writer killed mid-write leaves a readable
//! file, records carry the trace id, rotation and the category filter apply; a slow disk never
//! slows a caller, a failed write never corrupts the next record, the hash chain finds edits,
//! and the file is private.

mod common;

use only1mcp_obs::audit::{
    AuditCategory, AuditConfig, AuditEvent, AuditLog, Faults, FsyncPolicy, read, verify,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(dir: &Path) -> AuditConfig {
    let mut config = AuditConfig::default();
    config.output.path = dir.join("audit.log");
    config
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("only1mcp-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn tool(n: usize) -> AuditEvent {
    AuditEvent::ToolInvocation {
        server_id: format!("backend-{}", n % 3),
        tool: format!("tool-{n}"),
    }
}

#[test]
fn sixty_four_concurrent_writers_lose_nothing() {
    let dir = temp_dir("concurrent");
    let mut config = config(&dir);
    config.output.fsync = FsyncPolicy::Never;
    let log = Arc::new(AuditLog::open(&config).expect("open"));
    std::thread::scope(|s| {
        for writer in 0..64 {
            let log = log.clone();
            s.spawn(move || {
                for n in 0..200 {
                    log.record(&format!("writer-{writer}"), &tool(n), "success")
                        .expect("record");
                }
            });
        }
    });
    log.sync().expect("sync");
    let read = read(&config.output.path).expect("read");
    assert!(
        read.skipped.is_empty(),
        "no torn lines: {:?}",
        &read.skipped[..read.skipped.len().min(3)]
    );
    assert_eq!(read.records.len(), 64 * 200);
    for writer in 0..64 {
        let mine = read
            .records
            .iter()
            .filter(|r| r.actor == format!("writer-{writer}"))
            .count();
        assert_eq!(mine, 200, "writer-{writer}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// Run as a child process by the kill test: writes records as fast as it can until killed.
#[test]
fn child_writer() {
    let Ok(path) = std::env::var("ONLY1MCP_AUDIT_CHILD") else {
        return;
    };
    let mut config = AuditConfig::default();
    config.output.path = PathBuf::from(path);
    config.output.fsync = FsyncPolicy::Never;
    let log = AuditLog::open(&config).expect("open");
    let padding = "x".repeat(4000);
    for n in 0.. {
        let event = AuditEvent::Admin {
            action: format!("{n} {padding}"),
        };
        log.record("child", &event, "success").expect("record");
    }
}

/// This test binary running [`child_writer`] on `path`: it writes until killed.
fn spawn_child_writer(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env("ONLY1MCP_AUDIT_CHILD", path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("child")
}

#[test]
fn a_writer_killed_mid_write_leaves_a_readable_file() {
    let dir = temp_dir("killed");
    let path = dir.join("audit.log");
    let mut child = spawn_child_writer(&path);
    // Let it write a good amount, then kill it without warning.
    only1mcp_obs_testkit::poll(std::time::Duration::from_secs(20), || {
        (std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > 2_000_000).then_some(())
    })
    .expect("the child writes");
    child.kill().expect("kill");
    child.wait().expect("reap");

    let before = read(&path).expect("readable after the crash");
    assert!(before.records.len() > 400, "{}", before.records.len());
    assert!(
        before.skipped.len() <= 1,
        "at most the last line is torn: {:?}",
        before.skipped.len()
    );
    // A new writer after the crash appends cleanly, whatever the tail looked like.
    let log = AuditLog::open(&AuditConfig {
        output: only1mcp_obs::audit::AuditOutput {
            path: path.clone(),
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("reopen");
    log.record(
        "after-restart",
        &AuditEvent::Admin {
            action: "restart".into(),
        },
        "success",
    )
    .expect("record");
    drop(log);
    let after = read(&path).expect("read");
    assert_eq!(after.records.len(), before.records.len() + 1);
    assert_eq!(after.records.last().expect("last").actor, "after-restart");
    assert_eq!(
        after.skipped.len(),
        before.skipped.len(),
        "the torn line stays one skipped line"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn records_carry_the_trace_id_and_respect_include() {
    let dir = temp_dir("trace");
    let mut config = config(&dir);
    config.include = vec![AuditCategory::ToolInvocations, AuditCategory::ConfigChanges];
    let log = AuditLog::open(&config).expect("open");
    let (exporter, _provider, current) = common::in_memory();
    #[only1mcp_obs::mcp_instrumented(method = "tools/call", target = "search")]
    fn call(log: &AuditLog) -> std::io::Result<()> {
        log.record(
            "client-1",
            &AuditEvent::ToolInvocation {
                server_id: "github".into(),
                tool: "search".into(),
            },
            "success",
        )
    }
    call(&log).expect("record");
    drop(current);
    log.record(
        "admin",
        &AuditEvent::Admin {
            action: "reload".into(),
        },
        "success",
    )
    .expect("filtered out");
    log.record(
        "admin",
        &AuditEvent::ConfigChange {
            key: "backends.github.api_key".into(),
            old: Some("k1".into()),
            new: Some("k2".into()),
        },
        "success",
    )
    .expect("record");
    log.sync().expect("sync");
    let records = read(&config.output.path).expect("read").records;
    assert_eq!(records.len(), 2, "admin actions are not included");
    let span = exporter
        .get_finished_spans()
        .expect("spans")
        .pop()
        .expect("span");
    assert_eq!(
        records[0].trace_id.as_deref(),
        Some(span.span_context.trace_id().to_string().as_str())
    );
    assert_eq!(records[0].action, "tool_invocation");
    assert_eq!(
        records[1].details["new"], "[REDACTED]",
        "secret-looking config values are redacted"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn files_rotate_by_size() {
    let dir = temp_dir("rotate");
    let mut config = config(&dir);
    config.output.max_size_mb = 1;
    config.output.max_files = 3;
    let log = AuditLog::open(&config).expect("open");
    let padding = "y".repeat(10_000);
    for n in 0..500 {
        log.record(
            "rotator",
            &AuditEvent::Admin {
                action: format!("{n} {padding}"),
            },
            "success",
        )
        .expect("record");
    }
    drop(log);
    let mut total = read(&config.output.path).expect("current").records.len();
    for n in 1..=3 {
        let rotated = dir.join(format!("audit.log.{n}"));
        assert!(rotated.exists(), "{}", rotated.display());
        total += read(&rotated).expect("rotated").records.len();
        assert!(std::fs::metadata(&rotated).expect("meta").len() <= 1024 * 1024);
    }
    assert!(
        !dir.join("audit.log.4").exists(),
        "at most max_files rotated files"
    );
    assert!(
        total < 500 && total > 300,
        "older records went with the oldest file: {total}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_slow_fsync_never_slows_a_caller_and_is_shared_by_every_queued_record() {
    let dir = temp_dir("slow-fsync");
    let config = config(&dir);
    let fsync = Duration::from_millis(50);
    let faults = Faults {
        fsync_delay: fsync,
        ..Faults::default()
    };
    let log = Arc::new(AuditLog::open_with_faults(&config, faults).expect("open"));
    let start = Instant::now();
    let slowest = std::thread::scope(|scope| {
        let callers: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                scope.spawn(move || {
                    (0..25)
                        .map(|n| {
                            let call = Instant::now();
                            log.record("caller", &tool(t * 100 + n), "success")
                                .expect("queued");
                            call.elapsed()
                        })
                        .max()
                        .unwrap_or_default()
                })
            })
            .collect();
        callers.into_iter().map(|c| c.join().expect("caller")).max()
    });
    let slowest = slowest.unwrap_or_default();
    log.sync().expect("sync");
    let durable = start.elapsed();
    println!(
        "200 records, 50 ms fsync: slowest record() {slowest:?}; all durable after {durable:?}"
    );
    // A caller never waits for the disk...
    assert!(slowest < fsync / 2, "a record() call took {slowest:?}");
    // ...and one fsync covers every record queued while the previous one ran.
    assert!(
        durable < fsync * 200 / 10,
        "200 records took {durable:?} to be durable"
    );
    assert_eq!(read(&config.output.path).expect("read").records.len(), 200);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_partial_write_never_swallows_the_next_record() {
    let dir = temp_dir("partial");
    let config = config(&dir);
    let faults = Faults {
        fail_write_after: Some(20),
        ..Faults::default()
    };
    let log = AuditLog::open_with_faults(&config, faults).expect("open");
    log.record("a", &tool(1), "success").expect("queued"); // its write fails after 20 bytes
    log.record("b", &tool(2), "success").expect("queued");
    log.sync().expect("sync");
    let found = read(&config.output.path).expect("read");
    assert_eq!(found.records.len(), 1, "{found:?}");
    assert_eq!(found.records[0].actor, "b");
    assert_eq!(
        found.skipped.len(),
        1,
        "the fragment is one unreadable line"
    );
    let chain = verify(&config.output.path).expect("verify");
    assert!(chain.is_intact(), "{chain:?}");
    assert_eq!(chain.torn, vec![1]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// A file of five records, and its lines.
fn five_records(name: &str) -> (PathBuf, PathBuf, Vec<String>) {
    let dir = temp_dir(name);
    let config = config(&dir);
    let log = AuditLog::open(&config).expect("open");
    for n in 0..5 {
        log.record("me", &tool(n), "success").expect("record");
    }
    drop(log);
    let text = std::fs::read_to_string(&config.output.path).expect("read");
    let lines = text.lines().map(str::to_owned).collect();
    (dir, config.output.path, lines)
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write");
}

#[test]
fn the_chain_names_a_changed_a_removed_and_a_reordered_record() {
    let (dir, path, lines) = five_records("chain");
    assert!(verify(&path).expect("verify").is_intact());
    assert_eq!(verify(&path).expect("verify").records, 5);

    let mut changed = lines.clone();
    changed[2] = changed[2].replace("\"success\"", "\"failure\"");
    write_lines(&path, &changed);
    let broken = verify(&path)
        .expect("verify")
        .broken
        .expect("a change is found");
    assert_eq!((broken.line, broken.seq), (3, 2), "{broken}");

    let mut removed = lines.clone();
    removed.remove(1);
    write_lines(&path, &removed);
    let broken = verify(&path)
        .expect("verify")
        .broken
        .expect("a removal is found");
    assert_eq!((broken.line, broken.seq), (2, 2), "{broken}");
    assert!(broken.reason.contains("removed or reordered"), "{broken}");

    let mut reordered = lines.clone();
    reordered.swap(3, 4);
    write_lines(&path, &reordered);
    let broken = verify(&path)
        .expect("verify")
        .broken
        .expect("a swap is found");
    assert_eq!((broken.line, broken.seq), (4, 4), "{broken}");

    // Reopening continues the chain where the file ends.
    write_lines(&path, &lines);
    let log = AuditLog::open(&config(&dir)).expect("reopen");
    log.record("me", &tool(9), "success").expect("record");
    drop(log);
    let chain = verify(&path).expect("verify");
    assert!(chain.is_intact() && chain.records == 6, "{chain:?}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_audit_file_and_its_directory_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("mode");
    let mut config = config(&dir);
    config.output.path = dir.join("state").join("audit.log");
    let log = AuditLog::open(&config).expect("open");
    log.record("me", &tool(1), "success").expect("record");
    log.sync().expect("sync");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&config.output.path), 0o600);
    assert_eq!(mode(&dir.join("state")), 0o700);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_second_process_on_the_same_file_is_refused_until_the_first_is_gone() {
    let dir = temp_dir("locked");
    let path = dir.join("audit.log");
    // The killed-writer child holds the file open until it is killed.
    let mut child = spawn_child_writer(&path);
    only1mcp_obs_testkit::poll(Duration::from_secs(20), || {
        (std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > 0).then_some(())
    })
    .expect("the child writes");
    let mut config = AuditConfig::default();
    config.output.path = path.clone();
    let refused = AuditLog::open(&config).expect_err("the file is in use");
    child.kill().expect("kill");
    child.wait().expect("reap");
    assert_eq!(refused.kind(), std::io::ErrorKind::ResourceBusy);
    let message = refused.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("audit.output.path"),
        "{message}"
    );
    // Its chain is intact, and the file opens once the holder is gone.
    let log = AuditLog::open(&config).expect("open after the holder died");
    drop(log);
    let read = read(&path).expect("read");
    assert!(read.skipped.len() <= 1, "{:?}", read.skipped.len());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_liveness_probe_stays_fast_while_every_fsync_takes_50_ms() {
    use only1mcp_obs::health::{Health, HealthConfig, HealthServer};
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = temp_dir("slow-health");
    let mut config = config(&dir);
    config.output.fsync = FsyncPolicy::Always;
    let fsync = Duration::from_millis(50);
    let faults = Faults {
        // The fault under test: the writer sleeps this long in every fsync (a slow disk),
        // not a wait of the test itself.
        fsync_delay: fsync,
        ..Faults::default()
    };
    let log = Arc::new(AuditLog::open_with_faults(&config, faults).expect("open"));
    let health = HealthConfig {
        port: 0,
        ..HealthConfig::default()
    };
    let server = HealthServer::bind(Health::new(), &health)
        .await
        .expect("bind");
    let live = format!("http://{}/health/live", server.local_addr());

    // Callers record on the runtime's worker threads, as request handlers do, and wait for each
    // record to be durable before the next, until the probes are done: the writer thread
    // spends the whole time in 50 ms fsyncs, and the queue stays short.
    let done = Arc::new(AtomicBool::new(false));
    let mut callers = tokio::task::JoinSet::new();
    for t in 0..8 {
        let (log, done) = (log.clone(), done.clone());
        callers.spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                let call = Instant::now();
                log.record("caller", &tool(t * 100_000 + n), "success")
                    .expect("queued");
                slowest = slowest.max(call.elapsed());
                n += 1;
                let log = log.clone();
                tokio::task::spawn_blocking(move || log.sync())
                    .await
                    .expect("sync task")
                    .expect("sync");
            }
            slowest
        });
    }
    let probes = tokio::task::spawn_blocking(move || {
        let mut took: Vec<Duration> = (0..20)
            .map(|_| {
                let start = Instant::now();
                let answer = only1mcp_obs_testkit::http::get(&live).expect("GET /health/live");
                assert_eq!(answer.status, 200, "{}", answer.body);
                start.elapsed()
            })
            .collect();
        took.sort();
        took
    })
    .await
    .expect("probes");
    done.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    while let Some(caller) = callers.join_next().await {
        slowest = slowest.max(caller.expect("caller"));
    }
    let synced = tokio::task::spawn_blocking(move || log.sync())
        .await
        .expect("sync task");
    synced.expect("sync");
    server
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    let median = probes[probes.len() / 2];
    println!(
        "50 ms per fsync: /health/live median {median:?}, slowest {:?}; slowest record() {slowest:?}",
        probes[probes.len() - 1]
    );
    assert!(median < fsync / 2, "/health/live took {median:?}");
    assert!(slowest < fsync / 2, "a record() call took {slowest:?}");
    let read = read(&config.output.path).expect("read");
    assert!(read.skipped.is_empty() && !read.records.is_empty());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
