//! Backends from the configuration file: bad entries are refused with file, key and value; the
//! README's example loads; the reference server `@modelcontextprotocol/server-everything` behind
//! the aggregator, over stdio and over Streamable HTTP, answers every tool, resource and prompt
//! as it does directly (modulo the prefix), and its progress notifications reach the client that
//! asked for them; a stdio backend that crashes is restarted.

use only1mcp_obs_e2e::mcp_http::{Aggregator, Session, until};
use only1mcp_obs_e2e::peers::{self, Node};
use only1mcp_obs_e2e::{ChildGuard, workspace_binary};
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

type Client = RunningService<RoleClient, ClientConfig>;

const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `--config FILE --check-config`; its exit status and what it printed.
fn check(path: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(workspace_binary(
        "only1mcp-aggregator",
        "only1mcp-aggregator",
    ));
    command.arg("--config").arg(path).arg("--check-config");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the aggregator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn bad_backend_entries_are_refused_with_file_key_and_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stdio = "transport: stdio\n    command: server";
    let cases = [
        ("bad name", format!("  - name: Big Name\n    {stdio}\n"), "backends[0].name", "Big Name"),
        ("duplicate name", format!("  - name: a\n    {stdio}\n  - name: a\n    {stdio}\n"), "backends[1].name", "a"),
        ("unknown transport", "  - name: a\n    transport: carrier_pigeon\n".into(), "backends[0].transport", "carrier_pigeon"),
        ("unknown key", format!("  - name: a\n    {stdio}\n    comand: x\n"), "backends[0].comand", "x"),
        ("http without url", "  - name: a\n    transport: streamable_http\n".into(), "backends[0].url", ""),
        ("not a url", "  - name: a\n    transport: streamable_http\n    url: ftp://x/mcp\n".into(), "backends[0].url", "ftp://x/mcp"),
        ("stdio with url", format!("  - name: a\n    {stdio}\n    url: http://127.0.0.1:1/mcp\n"), "backends[0].url", "http://127.0.0.1:1/mcp"),
        ("stdio without command", "  - name: a\n    transport: stdio\n".into(), "backends[0].command", ""),
        ("timeout out of range", format!("  - name: a\n    {stdio}\n    timeout_seconds: 0\n"), "backends[0].timeout_seconds", "0"),
        ("bad prefix", format!("  - name: a\n    {stdio}\n    prefix: 'a b'\n"), "backends[0].prefix", "a b"),
        ("missing secret", "  - name: a\n    transport: streamable_http\n    url: http://127.0.0.1:1/mcp\n    headers:\n      Authorization: { env: ONLY1MCP_TEST_NO_SUCH_VARIABLE }\n".into(), "backends[0].headers.Authorization", "(not shown)"),
        ("unreadable secret file", "  - name: a\n    transport: streamable_http\n    url: http://127.0.0.1:1/mcp\n    headers:\n      Authorization: { file: /nonexistent/token }\n".into(), "backends[0].headers.Authorization", "(not shown)"),
    ];
    for (what, entries, key, value) in cases {
        let path = dir.path().join(format!("{}.yaml", what.replace(' ', "-")));
        std::fs::write(&path, format!("backends:\n{entries}")).expect("write");
        let (ok, text) = check(&path, &[]);
        println!("{what}: {}", text.trim());
        assert!(!ok, "{what}: accepted:\n{text}");
        assert!(
            text.contains(&path.display().to_string()),
            "{what}: no file in {text}"
        );
        assert!(
            text.contains(&format!("`{key}` = \"{value}\"")),
            "{what}: no key {key} with its value in {text}"
        );
    }
}

/// The repository's `config/aggregator.example.yaml`, shown in the README.
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/aggregator.example.yaml")
}

#[test]
fn the_readme_example_loads() {
    let (ok, text) = check(&example(), &[("REMOTE_MCP_TOKEN", "Bearer t0ken")]);
    assert!(ok, "{text}");
    assert!(text.contains("configuration ok: 2 backends"), "{text}");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README");
    let example = std::fs::read_to_string(example()).expect("example");
    let backends = &example[example.find("\nbackends:").expect("a backends section") + 1..];
    assert!(
        readme.contains(backends.trim_end()),
        "the README shows config/aggregator.example.yaml"
    );
}

/// The server-everything entry point in the installed Node peers.
fn everything(node: &Node) -> PathBuf {
    node.dir
        .join("node_modules/@modelcontextprotocol/server-everything/dist/index.js")
}

async fn connect<T, E, A>(transport: T) -> Client
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("backends-test", "1.0"),
    );
    tokio::time::timeout(DEADLINE, info.serve(transport))
        .await
        .expect("initialize in time")
        .expect("initialize")
}

/// Tools left out, and why.
const SKIPPED: [(&str, &str); 1] = [(
    "simulate-research-query",
    "task-based (experimental tasks API): needs a client that runs tasks",
)];

/// Minimal valid arguments of each server-everything tool.
fn arguments(tool: &str) -> Value {
    match tool {
        "echo" => json!({ "message": "through" }),
        "get-annotated-message" => json!({ "messageType": "success" }),
        "get-resource-links" => json!({ "count": 2 }),
        "get-resource-reference" => json!({ "resourceType": "Text", "resourceId": 2 }),
        "get-structured-content" => json!({ "location": "Chicago" }),
        "get-sum" => json!({ "a": 2, "b": 40 }),
        "gzip-file-as-resource" => {
            json!({ "name": "hello.gz", "data": "data:text/plain;base64,aGVsbG8=", "outputType": "resource" })
        }
        "trigger-long-running-operation" => json!({ "duration": 0.2, "steps": 2 }),
        _ => json!({}),
    }
}

/// Arguments of each prompt: its required ones filled.
fn prompt_arguments(prompt: &Prompt) -> JsonObject {
    let mut filled = JsonObject::new();
    for argument in prompt.arguments.iter().flatten() {
        let value = match argument.name.as_str() {
            "department" => "Engineering",
            "name" => "Alice",
            "resourceType" => "Text",
            "resourceId" => "1",
            _ => "Paris",
        };
        filled.insert(argument.name.clone(), json!(value));
    }
    filled
}

/// Fields that differ between two equal answers: `_meta`, `resultType` (which the aggregator
/// fills in when a backend leaves it out), session ids and clock times in texts.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| key != "_meta" && key != "resultType");
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::String(text) => *text = mask(text),
        _ => {}
    }
}

/// `text` with each UUID (a session id) and each `H:MM:SS` time replaced by a placeholder.
fn mask(text: &str) -> String {
    let is_uuid = |w: &str| {
        w.len() == 36
            && w.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    let is_time = |w: &str| {
        let parts: Vec<&str> = w.split(':').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    text.split(' ')
        .map(|word| match word {
            w if is_uuid(w) => "<uuid>",
            w if is_time(w) => "<time>",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn answer<T: serde::Serialize, E: std::fmt::Display>(result: Result<T, E>) -> Value {
    let mut value = match result {
        Ok(ok) => json!({ "ok": ok }),
        Err(e) => json!({ "error": e.to_string() }),
    };
    normalise(&mut value);
    value
}

/// Every answer of the server, by operation, under the backend's own names (`prefix` removed).
async fn answers(client: &Client, prefix: &str) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut tools = client.list_all_tools().await.expect("tools/list");
    for tool in &mut tools {
        let local = tool.name.strip_prefix(prefix).expect("prefixed").to_owned();
        tool.name = local.into();
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    all.insert("tools/list".into(), answer::<_, String>(Ok(&tools)));
    for tool in &tools {
        if SKIPPED.iter().any(|(name, _)| *name == tool.name) {
            continue;
        }
        let args = arguments(&tool.name)
            .as_object()
            .cloned()
            .unwrap_or_default();
        let request =
            CallToolRequestParams::new(format!("{prefix}{}", tool.name)).with_arguments(args);
        let result = tokio::time::timeout(DEADLINE, client.call_tool(request))
            .await
            .expect("tools/call in time");
        let mut value = answer(result);
        if tool.name == "get-env" {
            // The environment of two processes: compared only in shape.
            value = json!({ "ok": value["ok"]["content"][0]["type"].clone() });
        }
        all.insert(format!("tools/call {}", tool.name), value);
    }
    let mut resources = client.list_all_resources().await.expect("resources/list");
    resources.sort_by(|a, b| a.uri.cmp(&b.uri));
    all.insert("resources/list".into(), answer::<_, String>(Ok(&resources)));
    for resource in &resources {
        let read = client
            .read_resource(ReadResourceRequestParams::new(resource.uri.clone()))
            .await;
        all.insert(format!("resources/read {}", resource.uri), answer(read));
    }
    let templates = client.list_all_resource_templates().await;
    all.insert("resources/templates/list".into(), answer(templates));
    let mut prompts = client.list_all_prompts().await.expect("prompts/list");
    for prompt in &mut prompts {
        prompt.name = prompt
            .name
            .strip_prefix(prefix)
            .expect("prefixed")
            .to_owned();
    }
    prompts.sort_by(|a, b| a.name.cmp(&b.name));
    all.insert("prompts/list".into(), answer::<_, String>(Ok(&prompts)));
    for prompt in &prompts {
        let request = GetPromptRequestParams::new(format!("{prefix}{}", prompt.name))
            .with_arguments(prompt_arguments(prompt));
        all.insert(
            format!("prompts/get {}", prompt.name),
            answer(client.get_prompt(request).await),
        );
    }
    all
}

/// Compares the answers through the aggregator with the direct ones; prints the counts.
fn compare(through: &BTreeMap<String, Value>, direct: &BTreeMap<String, Value>, mode: &str) {
    let count = |prefix: &str| direct.keys().filter(|k| k.starts_with(prefix)).count();
    println!(
        "server-everything over {mode}: {} tools called, {} resources read, {} prompts got; skipped: {SKIPPED:?}",
        count("tools/call "),
        count("resources/read "),
        count("prompts/get ")
    );
    assert!(count("tools/call ") >= 10, "{direct:#?}");
    assert!(
        count("resources/read ") >= 1 && count("prompts/get ") >= 4,
        "{direct:#?}"
    );
    let differ: Vec<String> = direct
        .keys()
        .chain(through.keys())
        .filter(|k| direct.get(*k) != through.get(*k))
        .map(|k| {
            format!(
                "{k}:\n  through: {:?}\n  direct:  {:?}",
                through.get(k),
                direct.get(k)
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "{mode}: the aggregator differs:\n{}",
        differ.join("\n")
    );
    for (op, value) in direct {
        if op.starts_with("tools/call")
            || op.starts_with("prompts/get")
            || op.starts_with("resources/read")
        {
            assert!(value.get("ok").is_some(), "{op} failed directly: {value}");
        }
    }
}

/// A configuration file in `dir` with one backend entry.
fn config(dir: &Path, entry: &str) -> PathBuf {
    let path = dir.join("aggregator.yaml");
    std::fs::write(&path, format!("backends:\n{entry}")).expect("write the configuration");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_over_stdio_answers_through_the_aggregator_as_directly() {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let script = everything(&node);
    let path = config(
        dir.path(),
        &format!(
            "  - name: everything\n    transport: stdio\n    command: {:?}\n    args: [{:?}, stdio]\n    prefix: ev_\n",
            node.bin, script
        ),
    );
    let aggregator = Aggregator::start(&["--config", path.to_str().expect("path")], &[]);
    let through = connect(StreamableHttpClientTransport::from_uri(
        aggregator.mcp().to_owned(),
    ))
    .await;
    let mut command = tokio::process::Command::new(&node.bin);
    command.arg(&script).arg("stdio").stderr(Stdio::null());
    let direct = connect(TokioChildProcess::new(command).expect("server-everything")).await;
    let (through_answers, direct_answers) =
        (answers(&through, "ev_").await, answers(&direct, "").await);
    compare(&through_answers, &direct_answers, "stdio");
    let _ = direct.cancel().await;
    // Its stdio backend ends with it, even when it is killed (its stdin closes).
    let pid = aggregator.printed["backend everything"]
        .strip_prefix("stdio pid ")
        .expect("the backend's pid")
        .to_owned();
    drop(aggregator);
    until(DEADLINE, || async {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        // Gone, or a zombie waiting for its new parent to reap it.
        (status.is_empty() || status.contains("State:\tZ")).then_some(())
    })
    .await
    .expect("the stdio backend exits with the aggregator");
}

/// server-everything's Streamable HTTP mode on 127.0.0.1 and a free port.
fn everything_http(node: &Node) -> (ChildGuard, String) {
    let mut command = node.command();
    command
        .arg("--import")
        .arg(peers::dir().join("node/loopback.mjs"))
        .arg(everything(node))
        .arg("streamableHttp")
        .env("PORT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("server-everything");
    let stderr = child.stderr.take().expect("stderr");
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stderr).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("loopback: listening on 127.0.0.1:")
                .map(str::to_owned)
        })
        .expect("server-everything listens");
    std::thread::spawn(move || lines.for_each(drop));
    (guard, format!("http://127.0.0.1:{port}/mcp"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_over_streamable_http_answers_through_the_aggregator_as_directly() {
    let Some(node) = Node::installed() else {
        return;
    };
    let (_server, url) = everything_http(&node);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = config(
        dir.path(),
        &format!(
            "  - name: everything\n    transport: streamable_http\n    url: {url}\n    prefix: ev_\n    headers:\n      X-Token: {{ env: EVERYTHING_TOKEN }}\n"
        ),
    );
    let aggregator = Aggregator::start(
        &["--config", path.to_str().expect("path")],
        &[("EVERYTHING_TOKEN", "not-a-real-token")],
    );
    let through = connect(StreamableHttpClientTransport::from_uri(
        aggregator.mcp().to_owned(),
    ))
    .await;
    let direct = connect(StreamableHttpClientTransport::from_uri(url.clone())).await;
    let (through_answers, direct_answers) =
        (answers(&through, "ev_").await, answers(&direct, "").await);
    compare(&through_answers, &direct_answers, "streamable HTTP");
    let _ = direct.cancel().await;
}

async fn readiness(base: &str) -> (u16, String) {
    let Ok(response) = reqwest::get(format!("{base}/health/ready")).await else {
        return (0, String::new());
    };
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_stdio_backend_is_restarted_and_calls_between_get_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let python = std::env::var("ONLY1MCP_PEERS_PYTHON").unwrap_or_else(|_| "python3".into());
    let marker = dir.path().join("started-once");
    let path = config(
        dir.path(),
        &format!(
            "  - name: crashy\n    transport: stdio\n    command: {python:?}\n    args: [{:?}, '1', {marker:?}, '3']\n",
            peers::dir().join("crashy.py")
        ),
    );
    let aggregator = Aggregator::start(
        &[
            "--config",
            path.to_str().expect("path"),
            "--call-timeout",
            "5",
        ],
        &[],
    );
    let base = aggregator.base();
    let session = Session::open(reqwest::Client::new(), aggregator.mcp(), "crash-test").await;
    let first = session.call(1, "echo", json!({ "n": 1 })).await;
    assert!(first.contains("crashy: {\\\"n\\\": 1}"), "{first}");
    // It exits after that answer; restarted, it takes 3 s to answer `initialize`.
    let down = until(DEADLINE, || async {
        let (status, body) = readiness(&base).await;
        (status == 503 && body.contains("unreachable: crashy")).then_some(body)
    })
    .await
    .expect("readiness reports the crashed backend down");
    println!("while restarting: {down}");
    let start = std::time::Instant::now();
    let between = session.call(2, "echo", json!({ "n": 2 })).await;
    assert!(
        between.contains("\"error\"") && between.contains("backend crashy is not connected"),
        "{between}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "answered at once, not after a hang"
    );
    until(DEADLINE, || async {
        (readiness(&base).await.0 == 200).then_some(())
    })
    .await
    .expect("readiness reports it up again after the restart");
    let after = session.call(3, "echo", json!({ "n": 3 })).await;
    assert!(after.contains("crashy: {\\\"n\\\": 3}"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_values_from_a_file_reach_the_backend_and_stay_out_of_the_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    std::fs::write(&token, "Bearer s3cret-from-file\n").expect("write the token");
    // A backend that records the first request's head and answers it with an error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let head = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("the aggregator connects");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
        let _ = std::io::Write::write_all(
            &mut &stream,
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        head.to_lowercase()
    });
    let path = config(
        dir.path(),
        &format!(
            "  - name: remote\n    transport: streamable_http\n    url: {url}\n    headers:\n      Authorization: {{ file: {token:?} }}\n"
        ),
    );
    let aggregator = Aggregator::start(&["--config", path.to_str().expect("path")], &[]);
    let head = head.join().expect("the request's head");
    assert!(
        head.contains("authorization: bearer s3cret-from-file\r\n"),
        "{head}"
    );
    let printed = format!("{:?}", aggregator.printed);
    assert!(!printed.contains("s3cret"), "{printed}");
}

/// The aggregator in front of server-everything over stdio (prefix `ev_`), configured in `dir`.
fn in_front_of_everything_over_stdio(node: &Node, dir: &Path) -> Aggregator {
    let path = config(
        dir,
        &format!(
            "  - name: everything\n    transport: stdio\n    command: {:?}\n    args: [{:?}, stdio]\n    prefix: ev_\n",
            node.bin,
            everything(node)
        ),
    );
    Aggregator::start(&["--config", path.to_str().expect("path")], &[])
}

/// A client that keeps the progress notifications it gets.
#[derive(Debug, Clone, Default)]
struct Progress(std::sync::Arc<std::sync::Mutex<Vec<ProgressNotificationParam>>>);

impl Progress {
    fn got(&self) -> Vec<ProgressNotificationParam> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl rmcp::ClientHandler for Progress {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(params);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backends_progress_reaches_the_client_that_asked_for_it_under_its_token() {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = in_front_of_everything_over_stdio(&node, dir.path());
    let session = |handler: Progress| {
        let url = aggregator.mcp().to_owned();
        async move {
            tokio::time::timeout(
                DEADLINE,
                handler.serve(StreamableHttpClientTransport::from_uri(url)),
            )
            .await
            .expect("initialize in time")
            .expect("initialize")
        }
    };
    let (asking, bystander) = (Progress::default(), Progress::default());
    let client = session(asking.clone()).await;
    let other = session(bystander.clone()).await;
    let params = CallToolRequestParams::new("ev_trigger-long-running-operation").with_arguments(
        json!({ "duration": 0.3, "steps": 3 })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    // Sent so that the token this client put on the request is known (rmcp chooses it).
    let handle = client
        .peer()
        .send_request_with_option(
            ClientRequest::CallToolRequest(CallToolRequest::new(params)),
            rmcp::service::PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
    let token = handle.progress_token.clone();
    let answer = tokio::time::timeout(DEADLINE, handle.await_response())
        .await
        .expect("answered in time")
        .expect("the call");
    let ServerResult::CallToolResult(result) = answer else {
        panic!("not a tools/call result: {answer:?}");
    };
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let got = until(DEADLINE, || async {
        let got = asking.got();
        (got.len() >= 3).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("3 progress notifications, got {:?}", asking.got()));
    assert!(
        got.iter().all(|p| p.progress_token == token),
        "the client's own token on each: {got:?}"
    );
    let steps: Vec<f64> = got.iter().map(|p| p.progress).collect();
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    assert!(got.iter().all(|p| p.total == Some(3.0)), "{got:?}");
    assert!(
        bystander.got().is_empty(),
        "another session got progress: {:?}",
        bystander.got()
    );
    let _ = client.cancel().await;
    let _ = other.cancel().await;
}

/// The official Python SDK client, in `mode`, asks for progress on server-everything's long
/// operation through the aggregator; what it receives is what the backend sent.
fn python_progress(mode: &str) {
    let (Some(node), Some(python)) = (Node::installed(), peers::python()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = in_front_of_everything_over_stdio(&node, dir.path());
    let mut command = Command::new(python);
    command
        .arg(peers::dir().join("python/progress.py"))
        .args([aggregator.mcp(), mode, "ev_trigger-long-running-operation"])
        .arg(json!({ "duration": 0.3, "steps": 3 }).to_string());
    let got = peers::run_json(&mut command, DEADLINE);
    assert_eq!(got["isError"], false, "{got}");
    let steps: Vec<f64> = got["progress"]
        .as_array()
        .map(|p| p.iter().filter_map(|n| n["progress"].as_f64()).collect())
        .unwrap_or_default();
    assert_eq!(steps, [1.0, 2.0, 3.0], "{mode}: {got}");
    assert!(
        got["progress"]
            .as_array()
            .is_some_and(|p| p.iter().all(|n| n["total"] == 3.0)),
        "{got}"
    );
}

#[test]
fn the_python_sdk_client_gets_a_backends_progress_2025_11_25() {
    python_progress("legacy");
}

#[test]
fn the_python_sdk_client_gets_a_backends_progress_2026_07_28() {
    python_progress("2026-07-28");
}
