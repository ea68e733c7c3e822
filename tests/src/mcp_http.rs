//! The main job under test, driven over raw MCP Streamable HTTP: start the aggregator, open
//! sessions on connections the caller chooses, call tools, read its pages and its memory.

use crate::{ChildGuard, workspace_binary};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A running aggregator and the `key: value` lines it printed at start.
#[derive(Debug)]
pub struct Aggregator {
    /// Kills it when dropped.
    pub guard: ChildGuard,
    /// `mcp`, `metrics`, `health`, `backend files`, ...
    pub printed: HashMap<String, String>,
    /// Holds the audit log when the caller gave none (`--audit`): each aggregator under test
    /// has its own, since a second process is refused an audit file already open.
    _audit_dir: tempfile::TempDir,
}

impl Aggregator {
    /// Starts `only1mcp-aggregator --listen 127.0.0.1:0` with `args` and `env`.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Aggregator {
        let mut command = Command::new(workspace_binary(
            "only1mcp-aggregator",
            "only1mcp-aggregator",
        ));
        let audit_dir = tempfile::tempdir().expect("temp dir");
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        if !args.contains(&"--audit") {
            command
                .arg("--audit")
                .arg(audit_dir.path().join("audit.log"));
        }
        command
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the aggregator");
        let stdout = child.stdout.take().expect("stdout");
        let guard = ChildGuard(child);
        let mut printed = HashMap::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some((key, value)) = line.split_once(": ").filter(|_| !line.starts_with('{')) {
                printed.insert(key.to_owned(), value.to_owned());
            }
            if line.starts_with("traces: ") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        assert!(
            printed.contains_key("mcp"),
            "the aggregator did not start: {printed:?}"
        );
        Aggregator {
            guard,
            printed,
            _audit_dir: audit_dir,
        }
    }

    /// Its MCP endpoint.
    pub fn mcp(&self) -> &str {
        &self.printed["mcp"]
    }

    /// `http://host:port` of its listener.
    pub fn base(&self) -> String {
        self.mcp().trim_end_matches("/mcp").to_owned()
    }

    /// The pid of the demo backend `name`.
    pub fn backend_pid(&self, name: &str) -> u32 {
        let line = &self.printed[&format!("backend {name}")];
        line.rsplit(' ')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("pid")
    }

    /// Resident memory of the aggregator process, from /proc.
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.guard.0.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

const ACCEPT: &str = "application/json, text/event-stream";
/// The protocol generation these sessions speak.
pub const VERSION: &str = "2025-11-25";

/// An MCP session over Streamable HTTP.
#[derive(Debug, Clone)]
pub struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
}

impl Session {
    /// `initialize` as `client`, then `notifications/initialized`.
    pub async fn open(http: reqwest::Client, url: &str, client: &str) -> Session {
        let init = serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": VERSION,
                "capabilities": {},
                "clientInfo": { "name": client, "version": "1.0" }
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
            .post(&serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        session
    }

    /// POSTs one JSON-RPC message; the response body (JSON or SSE) as text.
    pub async fn post(&self, body: &serde_json::Value) -> String {
        let response = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", VERSION)
            .json(body)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.text().await.expect("body")
    }

    /// `tools/call name(arguments)`; the response body.
    pub async fn call(&self, id: u64, name: &str, arguments: serde_json::Value) -> String {
        self.post(&serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": name, "arguments": arguments }
        }))
        .await
    }
}

/// Polls `probe` until it gives `Some`, with a backoff, for at most `deadline`.
pub async fn until<T, F: std::future::Future<Output = Option<T>>>(
    deadline: std::time::Duration,
    mut probe: impl FnMut() -> F,
) -> Option<T> {
    let start = tokio::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(5);
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        // Backoff between probes, bounded by the deadline: the polling, not a fixed wait.
        tokio::time::sleep(wait.min(deadline.saturating_sub(start.elapsed()))).await;
        wait = (wait * 2).min(std::time::Duration::from_millis(200));
    }
}
