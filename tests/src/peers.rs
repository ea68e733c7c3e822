//! MCP peers no one here wrote, for interop tests: the official Python SDK and the official
//! TypeScript SDK (with the conformance suite and a Node >= 22 to run it), as
//! `scripts/install-peers` installs them at the versions pinned under `tests/peers/`.
//!
//! The tests find them through `ONLY1MCP_PEERS_PYTHON` (a virtualenv's python),
//! `ONLY1MCP_PEERS_NODE` (the node binary) and `ONLY1MCP_PEERS_NODE_DIR` (the `npm ci`
//! directory). Without them a test says why and passes as skipped, unless
//! `ONLY1MCP_PEERS_REQUIRE=1` (set by `scripts/test`, which installs them): then it fails.

use crate::{ChildGuard, workspace_binary};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set to `1` when the peers were installed: a missing peer is then a failure, not a skip.
pub const REQUIRE: &str = "ONLY1MCP_PEERS_REQUIRE";

/// The repository's `tests/peers/` directory (driver scripts, pinned versions).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The path an environment variable names, when it exists; otherwise `None` after printing why
/// (or a panic when peers are required).
fn installed(var: &str, what: &str) -> Option<PathBuf> {
    let reason = match std::env::var_os(var) {
        Some(path) if Path::new(&path).exists() => return Some(PathBuf::from(path)),
        Some(path) => format!("{var}={} does not exist", Path::new(&path).display()),
        None => format!("{var} is not set"),
    };
    let why = format!("{what}: {reason}; run `eval \"$(scripts/install-peers)\"` first");
    if std::env::var(REQUIRE).is_ok_and(|v| v == "1") {
        panic!("{why} ({REQUIRE}=1: the peers must be here)");
    }
    println!("SKIPPED: {why}");
    None
}

/// The Python interpreter of the virtualenv that has the official Python SDK (`mcp`).
pub fn python() -> Option<PathBuf> {
    installed("ONLY1MCP_PEERS_PYTHON", "the Python MCP SDK")
}

/// Node (>= 22) and the `npm ci` directory of the TypeScript SDK and the conformance suite.
#[derive(Clone, Debug)]
pub struct Node {
    /// The node binary.
    pub bin: PathBuf,
    /// The directory whose `node_modules` has the packages.
    pub dir: PathBuf,
}

impl Node {
    /// The installed Node peers.
    pub fn installed() -> Option<Node> {
        let bin = installed("ONLY1MCP_PEERS_NODE", "Node for the TypeScript MCP SDK")?;
        let dir = installed("ONLY1MCP_PEERS_NODE_DIR", "the TypeScript MCP SDK")?;
        Some(Node { bin, dir })
    }

    /// A `node` command that finds the packages (`ONLY1MCP_PEERS_NODE_DIR`) and this node first
    /// on `PATH` (for scripts that start `node` themselves).
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        let bin_dir = self.bin.parent().expect("node's directory");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin_dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        command
            .env("PATH", std::env::join_paths(paths).expect("PATH"))
            .env("ONLY1MCP_PEERS_NODE_DIR", &self.dir);
        command
    }
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `command` to its end, killing it after `deadline`.
pub fn run(command: &mut Command, deadline: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    // Wait for the exit on a thread of its own; past the deadline, kill the peer by pid.
    let pid = child.id();
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait());
    });
    let status = match exit.recv_timeout(deadline) {
        Ok(status) => Some(status.expect("wait")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = exit.recv();
            None
        }
    };
    let output = Output {
        success: status.is_some_and(|s| s.success()),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    assert!(
        status.is_some(),
        "{command:?} still running after {deadline:?}\nstdout:\n{}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
    output
}

/// Runs a driver that prints one JSON document; panics with its output when it fails.
pub fn run_json(command: &mut Command, deadline: Duration) -> serde_json::Value {
    let output = run(command, deadline);
    assert!(
        output.success,
        "{command:?} failed\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    serde_json::from_str(output.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{command:?} printed no JSON ({e})\nstdout:\n{}\nstderr:\n{}",
            output.stdout, output.stderr
        )
    })
}

/// The aggregator of the main job, running in front of its demo backends.
#[derive(Debug)]
pub struct Aggregator {
    _guard: ChildGuard,
    /// Its MCP endpoint, `http://ADDR/mcp`.
    pub mcp: String,
    /// Each backend's own MCP endpoint, by backend name.
    pub backends: HashMap<String, String>,
}

impl Aggregator {
    /// Starts the aggregator with an audit log under `dir`; `configure` adds to its command.
    pub fn start(dir: &Path, configure: impl FnOnce(&mut Command)) -> Aggregator {
        let mut command = Command::new(workspace_binary(
            "only1mcp-aggregator",
            "only1mcp-aggregator",
        ));
        command
            .args(["--listen", "127.0.0.1:0", "--audit"])
            .arg(dir.join("audit.log"))
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().expect("aggregator");
        let stdout = child.stdout.take().expect("stdout");
        let guard = ChildGuard(child);
        let mut lines = BufReader::new(stdout).lines();
        let (mut mcp, mut backends) = (None, HashMap::new());
        for line in lines.by_ref().map_while(Result::ok) {
            // `backend files: http://127.0.0.1:PORT pid PID`
            if let Some((name, rest)) = line
                .strip_prefix("backend ")
                .and_then(|l| l.split_once(": "))
            {
                let url = rest.split(" pid ").next().unwrap_or(rest);
                backends.insert(name.to_owned(), format!("{url}/mcp"));
            } else if let Some(url) = line.strip_prefix("mcp: ") {
                mcp = Some(url.to_owned());
            } else if line.starts_with("traces: ") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        Aggregator {
            _guard: guard,
            mcp: mcp.expect("the aggregator prints its MCP URL"),
            backends,
        }
    }

    /// A backend's own MCP endpoint.
    pub fn backend(&self, name: &str) -> &str {
        self.backends
            .get(name)
            .unwrap_or_else(|| panic!("no backend {name} in {:?}", self.backends))
    }
}

/// Writes `dir/aggregator.yaml`: one backend `python`, the Python SDK server
/// `python/server.py` run by `python` over stdio with `args`, its tools prefixed `py_`.
pub fn python_server_config(dir: &Path, python: &Path, args: &[String]) -> PathBuf {
    let path = dir.join("aggregator.yaml");
    let mut all = vec![format!("{:?}", self::dir().join("python/server.py"))];
    all.extend(args.iter().map(|a| format!("{a:?}")));
    std::fs::write(
        &path,
        format!(
            "backends:\n  - name: python\n    transport: stdio\n    command: {python:?}\n    args: [{}]\n    prefix: py_\n",
            all.join(", ")
        ),
    )
    .expect("write the configuration");
    path
}

/// Runs the Python client `script` (under `python/`) with the URL of an aggregator in front of
/// the Python SDK server `python/server.py` (over stdio, prefix `py_`) and `args`; what it
/// printed as JSON. `None` when the Python peers are not installed.
pub fn python_client_through_python_server(
    script: &str,
    args: &[&str],
    deadline: Duration,
) -> Option<serde_json::Value> {
    let python = python()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = python_server_config(dir.path(), &python, &[]);
    let aggregator =
        crate::mcp_http::Aggregator::start(&["--config", config.to_str().expect("path")], &[]);
    Some(run_json(
        Command::new(&python)
            .arg(self::dir().join("python").join(script))
            .arg(aggregator.mcp())
            .args(args),
        deadline,
    ))
}
