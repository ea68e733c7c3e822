//! Calls on a kept-alive connection are as fast as calls on fresh ones: no server of the main
//! job waits for the client's delayed ACK (Nagle's algorithm) between the pieces of a response.
//!
//! Real MCP clients keep their connection; a response written in several small pieces (an SSE
//! stream) without `TCP_NODELAY` costs them about 40 ms a call, where a fresh connection costs
//! a millisecond or two. The test compares the two in the same run, never against a time.

use only1mcp_obs_e2e::{ChildGuard, workspace_binary};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the aggregator (in front of its demo backends); returns its guard and MCP URL.
fn start_aggregator(audit: &std::path::Path) -> (ChildGuard, String) {
    let mut child = Command::new(workspace_binary(
        "only1mcp-aggregator",
        "only1mcp-aggregator",
    ))
    .args(["--listen", "127.0.0.1:0", "--audit"])
    .arg(audit)
    .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
    .stdout(Stdio::piped())
    .spawn()
    .expect("aggregator");
    let stdout = child.stdout.take().expect("stdout");
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("mcp: ").map(str::to_owned))
        .expect("the aggregator prints its MCP URL");
    std::thread::spawn(move || lines.for_each(drop));
    (guard, url)
}

/// An MCP session over Streamable HTTP, on the connections `http` gives it.
struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
}

const ACCEPT: &str = "application/json, text/event-stream";
const VERSION: &str = "2025-11-25";

impl Session {
    async fn open(http: reqwest::Client, url: &str) -> Session {
        let init = serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": VERSION,
                "capabilities": {},
                "clientInfo": { "name": "keepalive-test", "version": "1.0" }
            }
        });
        let response = http
            .post(url)
            .header("accept", ACCEPT)
            .json(&init)
            .send()
            .await
            .expect("initialize");
        let id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .expect("a session id")
            .to_owned();
        response.text().await.expect("initialize result");
        let session = Session {
            http,
            url: url.to_owned(),
            id,
        };
        session
            .post(serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        session
    }

    async fn post(&self, body: serde_json::Value) -> String {
        let response = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", VERSION)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.text().await.expect("body")
    }

    /// One `tools/call`; its duration.
    async fn call(&self, i: u64) -> Duration {
        let start = Instant::now();
        let body = self
            .post(serde_json::json!({
                "jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": { "name": "files_echo", "arguments": { "text": format!("call {i}") } }
            }))
            .await;
        let took = start.elapsed();
        assert!(body.contains("files: call"), "{body}");
        took
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_kept_alive_connection_do_not_stall() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_aggregator, url) = start_aggregator(&dir.path().join("audit.log"));

    // One connection for the whole session.
    let kept = Session::open(reqwest::Client::new(), &url).await;
    // A new connection for every request.
    let fresh_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let fresh = Session::open(fresh_client, &url).await;

    // Warm both paths (the backends' connections, the cache of resolved series).
    for i in 0..3 {
        kept.call(1000 + i).await;
        fresh.call(2000 + i).await;
    }
    let mut on_kept = Vec::new();
    let mut on_fresh = Vec::new();
    for i in 0..20 {
        on_kept.push(kept.call(i).await);
        on_fresh.push(fresh.call(100 + i).await);
    }
    let (kept, fresh) = (median(on_kept.clone()), median(on_fresh));
    println!("20 calls: kept-alive median {kept:?}, fresh-connection median {fresh:?}");
    // A stall makes a kept-alive call ~40 ms against 1-4 ms on a fresh connection (x10 and
    // more); without one a kept-alive call costs no more than a fresh one.
    assert!(
        kept < fresh * 3,
        "kept-alive calls take {kept:?} (each: {on_kept:?}), fresh-connection calls {fresh:?}"
    );
}
