//! Backends from the configuration file: bad entries are refused with file, key and value; the
//! README's example loads; the reference server `@modelcontextprotocol/server-everything` behind
//! the aggregator, over stdio and over Streamable HTTP, answers every tool, resource and prompt
//! as it does directly (modulo the prefix), and its progress notifications reach the client that
//! asked for them, as its sampling and elicitation requests reach the client whose call made
//! them (a span each in that call's trace), and its log messages reach the sessions that set a
//! level; a stdio backend that crashes is restarted.

use only1mcp_obs_e2e::mcp_client::{connect as connect_as, send_tool_call};
use only1mcp_obs_e2e::mcp_http::{Aggregator, Session, until};
use only1mcp_obs_e2e::peers::{self, Node};
use only1mcp_obs_e2e::{ChildGuard, workspace_binary};
use only1mcp_obs_testkit::backend::Backend;
use only1mcp_obs_testkit::traces::{SpanKind, SpanQuery, TraceBackend};
use rmcp::RoleClient;
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

type Client = RunningService<RoleClient, Answering>;

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

/// A client that can be asked for sampling, elicitation and roots, answers each the same way
/// every time (so a backend's requests give the same results directly and through the
/// aggregator), and keeps what it was asked.
#[derive(Debug, Clone, Default)]
struct Answering(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Answering {
    fn asked(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn ask(&self, what: String) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }
}

#[allow(deprecated)] // Sampling and roots are part of protocol 2025-11-25.
impl rmcp::ClientHandler for Answering {
    fn get_info(&self) -> ClientConfig {
        let capabilities: ClientCapabilities =
            serde_json::from_value(json!({ "roots": {}, "sampling": {}, "elicitation": {} }))
                .expect("capabilities");
        ClientConfig::new(capabilities, Implementation::new("backends-test", "1.0"))
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, rmcp::ErrorData> {
        let asked = serde_json::to_value(&params.messages).unwrap_or_default();
        self.ask(format!("sampling/createMessage {asked}"));
        Ok(CreateMessageResult::new(
            SamplingMessage::assistant_text("sampled"),
            "test-model".into(),
        )
        .with_stop_reason("endTurn"))
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        let asked = serde_json::to_value(&params).unwrap_or_default();
        self.ask(format!("elicitation/create {}", asked["message"]));
        Ok(ElicitResult::new(ElicitationAction::Accept)
            .with_content(json!({ "name": "Ada Lovelace", "check": true })))
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.ask(format!("log {:?} {}", params.level, params.data));
    }

    async fn list_roots(
        &self,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, rmcp::ErrorData> {
        self.ask("roots/list".into());
        Ok(ListRootsResult::new(vec![
            Root::new("file:///work/project").with_name("project"),
        ]))
    }
}

async fn connect<T, E, A>(transport: T) -> Client
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    connect_as(Answering::default(), transport).await
}

/// Tools whose answer through the aggregator may differ from the direct one by design, and why.
/// The aggregator shares one backend session among its clients, and server-everything asks for
/// roots on its own (after `initialize`, and over HTTP on its standalone stream, tied to no
/// call): the aggregator answers such a question with no roots rather than with one client's.
/// Over stdio, a question asked while the call is the only one in flight goes to its client.
const DIFFERENT: [(&str, &str); 1] = [(
    "get-roots-list",
    "server-everything asks for roots tied to no call; the aggregator answers those with no roots",
)];

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
        "trigger-sampling-request" => json!({ "prompt": "through", "maxTokens": 20 }),
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
    for tool in [
        "trigger-sampling-request",
        "trigger-elicitation-request",
        "get-roots-list",
    ] {
        assert!(
            direct.contains_key(&format!("tools/call {tool}")),
            "{tool} is listed to a client that can be asked: {direct:#?}"
        );
    }
    let sampled = through["tools/call trigger-sampling-request"].to_string();
    assert!(
        sampled.contains("sampled") && sampled.contains("test-model"),
        "{sampled}"
    );
    let elicited = through["tools/call trigger-elicitation-request"].to_string();
    assert!(elicited.contains("Ada Lovelace"), "{elicited}");
    for (tool, why) in DIFFERENT {
        let op = format!("tools/call {tool}");
        let (got, own) = (through[&op].to_string(), direct[&op].to_string());
        println!("{op} may differ ({why}):\n  through: {got}\n  direct:  {own}");
        assert!(own.contains("file:///work/project"), "{own}");
        // The calling client's own roots, or none: never anything else.
        assert!(
            got == own || got.contains("no roots are currently configured"),
            "{got}"
        );
    }
    let differ: Vec<String> = direct
        .keys()
        .chain(through.keys())
        .filter(|k| {
            !DIFFERENT
                .iter()
                .any(|(tool, _)| **k == format!("tools/call {tool}"))
        })
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
    in_front_of_everything_over_stdio_with(node, dir, &[])
}

/// [`in_front_of_everything_over_stdio`] with `env` set for the aggregator.
fn in_front_of_everything_over_stdio_with(
    node: &Node,
    dir: &Path,
    env: &[(&str, &str)],
) -> Aggregator {
    let path = config(
        dir,
        &format!(
            "  - name: everything\n    transport: stdio\n    command: {:?}\n    args: [{:?}, stdio]\n    prefix: ev_\n",
            node.bin,
            everything(node)
        ),
    );
    Aggregator::start(&["--config", path.to_str().expect("path")], env)
}

/// How the aggregator reaches server-everything in a test.
#[derive(Debug, Clone, Copy)]
enum Via {
    Stdio,
    Http,
}

/// The aggregator in front of server-everything `via` stdio or Streamable HTTP (prefix `ev_`),
/// configured in `dir`, with `env` set for the aggregator; the HTTP server, if any, lives as
/// long as the returned guard.
fn in_front_of_everything(
    node: &Node,
    dir: &Path,
    via: Via,
    env: &[(&str, &str)],
) -> (Aggregator, Option<ChildGuard>) {
    match via {
        Via::Stdio => (in_front_of_everything_over_stdio_with(node, dir, env), None),
        Via::Http => {
            let (server, url) = everything_http(node);
            let path = config(
                dir,
                &format!(
                    "  - name: everything\n    transport: streamable_http\n    url: {url}\n    prefix: ev_\n"
                ),
            );
            let aggregator = Aggregator::start(&["--config", path.to_str().expect("path")], env);
            (aggregator, Some(server))
        }
    }
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
async fn a_backends_progress_reaches_the_client_that_asked_for_it_under_its_token_over_stdio() {
    progress_reaches_the_client_that_asked(Via::Stdio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backends_progress_reaches_the_client_that_asked_for_it_under_its_token_over_http() {
    progress_reaches_the_client_that_asked(Via::Http).await;
}

async fn progress_reaches_the_client_that_asked(via: Via) {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (aggregator, _server) = in_front_of_everything(&node, dir.path(), via, &[]);
    let url = || StreamableHttpClientTransport::from_uri(aggregator.mcp().to_owned());
    let (asking, bystander) = (Progress::default(), Progress::default());
    let client = connect_as(asking.clone(), url()).await;
    let other = connect_as(bystander.clone(), url()).await;
    // Sent so that the token this client put on the request is known (rmcp chooses it).
    let handle = send_tool_call(
        client.peer(),
        "ev_trigger-long-running-operation",
        json!({ "duration": 0.3, "steps": 3 }),
    )
    .await;
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

/// Runs the Python peer `script` with the aggregator's MCP URL and `args`, the aggregator in
/// front of server-everything over stdio; what it printed (`None`: no peers installed).
fn python_through_everything(script: &str, args: &[&str]) -> Option<Value> {
    let (Some(node), Some(python)) = (Node::installed(), peers::python()) else {
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = in_front_of_everything_over_stdio(&node, dir.path());
    let mut command = Command::new(python);
    command
        .arg(peers::dir().join("python").join(script))
        .arg(aggregator.mcp())
        .args(args);
    Some(peers::run_json(&mut command, DEADLINE))
}

/// The official Python SDK client, in `mode`, asks for progress on server-everything's long
/// operation through the aggregator; what it receives is what the backend sent.
fn python_progress(mode: &str) {
    let arguments = json!({ "duration": 0.3, "steps": 3 }).to_string();
    let Some(got) = python_through_everything(
        "progress.py",
        &[mode, "ev_trigger-long-running-operation", &arguments],
    ) else {
        return;
    };
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

#[test]
fn a_backends_sampling_and_elicitation_reach_the_client_whose_call_asked_over_stdio() {
    sampling_and_elicitation_reach_the_client_that_asked(Via::Stdio);
}

#[test]
fn a_backends_sampling_and_elicitation_reach_the_client_whose_call_asked_over_http() {
    sampling_and_elicitation_reach_the_client_that_asked(Via::Http);
}

/// The backend's requests go to the client whose call made them, not a bystander, and each is
/// a span in that call's trace. The trace backend starts and stops outside the clients'
/// runtime: as a container it is driven by testcontainers' blocking runner, which refuses to
/// run inside one.
fn sampling_and_elicitation_reach_the_client_that_asked(via: Via) {
    let Some(node) = Node::installed() else {
        return;
    };
    let traces = TraceBackend::start(Backend::from_env()).expect("trace backend");
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = traces.grpc_endpoint();
    let (aggregator, _server) = in_front_of_everything(
        &node,
        dir.path(),
        via,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "only1mcp-aggregator"),
        ],
    );
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(asked_and_answered(&aggregator));
    // The relayed request is a span in the call's trace, under the aggregator's call to the
    // backend; so is each relayed notification, such as the backend's progress.
    for (relayed, tool) in [
        ("sampling/createMessage", "trigger-sampling-request"),
        ("notifications/progress", "trigger-long-running-operation"),
    ] {
        relayed_under_its_call(&traces, relayed, tool);
    }
}

/// The aggregator's span `relayed` (kind client) is in the trace of the client's call of
/// server-everything's `tool`, under the aggregator's call to the backend.
fn relayed_under_its_call(traces: &TraceBackend, relayed: &str, tool: &str) {
    let span = traces
        .wait_for(
            &SpanQuery::name(relayed)
                .service("only1mcp-aggregator")
                .kind(SpanKind::Client),
            DEADLINE,
        )
        .unwrap_or_else(|e| panic!("a span {relayed}: {e}"));
    let tree = traces
        .wait_for_trace(&span.trace_id, 3, DEADLINE)
        .expect("its trace");
    println!("{tree}");
    let parent = tree
        .spans()
        .iter()
        .find(|s| Some(&s.span_id) == span.parent_span_id.as_ref())
        .unwrap_or_else(|| panic!("the parent of {relayed} is in its trace:\n{tree}"));
    assert_eq!(parent.name, format!("tools/call {tool}"), "{tree}");
    assert_eq!(parent.kind, SpanKind::Client, "{tree}");
    assert_eq!(
        tree.roots()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        [format!("tools/call ev_{tool}")],
        "{tree}"
    );
}

/// Sampling and elicitation through `aggregator`: the calling client answers, a bystander is
/// never asked, a client without the capability is refused, a forged round state resumes nothing.
async fn asked_and_answered(aggregator: &Aggregator) {
    let url = || StreamableHttpClientTransport::from_uri(aggregator.mcp().to_owned());
    let (asking, bystander) = (Answering::default(), Answering::default());
    let client = connect_as(asking.clone(), url()).await;
    let other = connect_as(bystander.clone(), url()).await;
    // A client that cannot be asked anything.
    let mute = connect_as(
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("mute", "1.0"),
        ),
        url(),
    )
    .await;

    let call = |tool: &str, args: Value| {
        CallToolRequestParams::new(format!("ev_{tool}"))
            .with_arguments(args.as_object().cloned().unwrap_or_default())
    };
    let sampled = client
        .call_tool(call(
            "trigger-sampling-request",
            json!({ "prompt": "relay me" }),
        ))
        .await
        .expect("the sampling call");
    let text = serde_json::to_string(&sampled).expect("json");
    assert!(
        text.contains("sampled") && text.contains("test-model"),
        "{text}"
    );
    let elicited = client
        .call_tool(call("trigger-elicitation-request", json!({})))
        .await
        .expect("the elicitation call");
    let text = serde_json::to_string(&elicited).expect("json");
    assert!(text.contains("Ada Lovelace"), "{text}");
    // A call that asks for progress (rmcp puts a token on each request).
    let handle = send_tool_call(
        client.peer(),
        "ev_trigger-long-running-operation",
        json!({ "duration": 0.2, "steps": 2 }),
    )
    .await;
    tokio::time::timeout(DEADLINE, handle.await_response())
        .await
        .expect("answered in time")
        .expect("the progress call");
    let asked = asking.asked();
    assert!(
        asked
            .iter()
            .any(|a| a.starts_with("sampling/createMessage") && a.contains("relay me")),
        "{asked:?}"
    );
    assert!(
        asked.iter().any(|a| a.starts_with("elicitation/create")),
        "{asked:?}"
    );
    assert!(
        bystander.asked().is_empty(),
        "a bystander was asked: {:?}",
        bystander.asked()
    );

    // The backend's request to a client that declared no sampling gets an error, which the
    // backend turns into the call's failure: nothing hangs.
    let refused = tokio::time::timeout(
        DEADLINE,
        mute.call_tool(call("trigger-sampling-request", json!({ "prompt": "x" }))),
    )
    .await
    .expect("answered in time");
    let text = format!("{refused:?}");
    assert!(text.contains("does not support sampling"), "{text}");

    // A made-up or replayed `requestState` resumes nothing.
    let forged = call("trigger-sampling-request", json!({ "prompt": "x" }))
        .with_request_state("only1mcp-round:0123456789abcdef0123456789abcdef");
    let refused = format!("{:?}", client.call_tool(forged).await);
    assert!(
        refused.contains("requestState is unknown or expired"),
        "{refused}"
    );

    let _ = client.cancel().await;
    let _ = other.cancel().await;
    let _ = mute.cancel().await;
}

/// The official Python SDK client, in `mode`, calls server-everything's tools that ask the
/// client for sampling and elicitation, through the aggregator; the client's answers reach the
/// backend and come back in the results. In 2026-07-28 the backend's requests (sent during the
/// call, protocol 2025-11-25) reach the client as `input_required` rounds.
fn python_is_asked(mode: &str, protocol: &str) {
    let Some(got) = python_through_everything("ask.py", &[mode, "ev_"]) else {
        return;
    };
    println!("{mode}: {got}");
    assert_eq!(got["protocolVersion"], protocol, "{got}");
    let sampled = &got["calls"]["trigger-sampling-request"];
    assert_eq!(sampled["isError"], false, "{got}");
    let text = sampled["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("sampled by python") && text.contains("python-model"),
        "{got}"
    );
    let elicited = &got["calls"]["trigger-elicitation-request"];
    assert_eq!(elicited["isError"], false, "{got}");
    assert!(
        elicited["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Grace Hopper"),
        "{got}"
    );
    let asked = got["asked"].to_string();
    assert!(
        asked.contains("ask me") && asked.contains("elicitation"),
        "{got}"
    );
}

#[test]
fn the_python_sdk_client_answers_a_backends_sampling_and_elicitation_2025_11_25() {
    python_is_asked("legacy", "2025-11-25");
}

#[test]
fn the_python_sdk_client_answers_a_backends_sampling_and_elicitation_2026_07_28() {
    python_is_asked("2026-07-28", "2026-07-28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backends_log_messages_reach_the_sessions_that_set_a_level_over_stdio() {
    log_messages_reach_the_sessions_that_set_a_level(Via::Stdio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backends_log_messages_reach_the_sessions_that_set_a_level_over_http() {
    log_messages_reach_the_sessions_that_set_a_level(Via::Http).await;
}

#[allow(deprecated)] // Logging is part of protocol 2025-11-25.
async fn log_messages_reach_the_sessions_that_set_a_level(via: Via) {
    let Some(node) = Node::installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (aggregator, _server) = in_front_of_everything(&node, dir.path(), via, &[]);
    let url = || StreamableHttpClientTransport::from_uri(aggregator.mcp().to_owned());
    let (listening, bystander) = (Answering::default(), Answering::default());
    let strict = Answering::default();
    let client = connect_as(listening.clone(), url()).await;
    let other = connect_as(bystander.clone(), url()).await;
    let only_emergencies = connect_as(strict.clone(), url()).await;
    // Set first: the backend's own level is the last one set, `debug`.
    only_emergencies
        .set_level(SetLevelRequestParams::new(LoggingLevel::Emergency))
        .await
        .expect("logging/setLevel");
    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Debug))
        .await
        .expect("logging/setLevel");
    let toggle = || CallToolRequestParams::new("ev_toggle-simulated-logging");
    let started = client.call_tool(toggle()).await.expect("logging on");
    println!("{:?}", started.content);
    // server-everything sends one message at once, then one every 5 s, at a random level: wait
    // for one below `emergency`, which the strict session must not get.
    let logged = until(DEADLINE, || async {
        let asked = listening.asked();
        asked
            .iter()
            .find(|a| {
                a.starts_with("log ") && !a.starts_with("log Emergency") && a.contains("message")
            })
            .cloned()
    })
    .await
    .unwrap_or_else(|| panic!("a log message relayed, got {:?}", listening.asked()));
    println!("relayed: {logged}");
    client.call_tool(toggle()).await.expect("logging off");
    assert!(
        bystander.asked().iter().all(|a| !a.starts_with("log ")),
        "a session that set no level got log messages: {:?}",
        bystander.asked()
    );
    // The aggregator applies each session's own level.
    assert!(
        strict
            .asked()
            .iter()
            .filter(|a| a.starts_with("log "))
            .all(|a| a.starts_with("log Emergency")),
        "a session that set `emergency` got less severe messages: {:?}",
        strict.asked()
    );
    let _ = client.cancel().await;
    let _ = other.cancel().await;
    let _ = only_emergencies.cancel().await;
}

/// The official Python SDK client, in `mode`, gets a prompt and reads a resource of a Python SDK
/// server behind the aggregator (over stdio) that asks the client during them (elicitation,
/// sampling), and calls a tool that logs. The client's answers reach the backend and come back;
/// in 2026-07-28 the backend's requests come as `input_required` rounds of `prompts/get` and
/// `resources/read`. The client gets the tool's log messages at the level it asked and none
/// below: for the session in 2025-11-25 (`logging/setLevel`), per request in 2026-07-28, where a
/// client that asked for none gets none.
fn python_is_asked_during_prompts_and_resources(mode: &str, protocol: &str) {
    let Some(got) =
        peers::python_client_through_python_server("during.py", &[mode, "py_"], DEADLINE)
    else {
        return;
    };
    println!("{mode}: {got}");
    assert_eq!(got["protocolVersion"], protocol, "{got}");
    assert_eq!(got["prompt"], "hello Grace Hopper", "{got}");
    assert_eq!(got["resource"], "tides: sampled by python", "{got}");
    assert_eq!(got["called"], "chatted", "{got}");
    assert_eq!(
        got["asked"],
        json!([{ "elicitation": "Who is asking?" }, { "sampling": ["write about tides"] }]),
        "{got}"
    );
    assert_eq!(
        got["logged"],
        json!([
            { "level": "info", "data": "chatty info" },
            { "level": "warning", "data": "chatty warning" },
        ]),
        "{got}"
    );
    assert_eq!(got["quiet"], json!([]), "{got}");
}

#[test]
fn the_python_sdk_client_is_asked_during_prompts_and_resources_and_gets_logs_2025_11_25() {
    python_is_asked_during_prompts_and_resources("legacy", "2025-11-25");
}

#[test]
fn the_python_sdk_client_is_asked_during_prompts_and_resources_and_gets_logs_2026_07_28() {
    python_is_asked_during_prompts_and_resources("2026-07-28", "2026-07-28");
}

/// Over stdio nothing ties a backend's request to a call. With two calls in flight to the
/// backend, its elicitation request during `prompts/get` is refused as ambiguous, never sent to
/// either client, and the prompt fails with that error; with the other call gone, the same
/// prompt asks its own client and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_stdio_a_backends_request_with_two_calls_in_flight_is_refused_not_guessed() {
    let Some(python) = peers::python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = peers::python_server_config(dir.path(), &python, &[]);
    let aggregator = Aggregator::start(&["--config", config.to_str().expect("path")], &[]);
    let transport = || StreamableHttpClientTransport::from_uri(aggregator.mcp().to_owned());
    let (bystander, asker) = (Answering::default(), Answering::default());
    let waiting = connect_as(bystander.clone(), transport()).await;
    let asking = connect_as(asker.clone(), transport()).await;
    let marker = dir.path().join("slow");
    let slow = send_tool_call(waiting.peer(), "py_slow", json!({ "marker": marker })).await;
    let exists = |suffix: &str| {
        let path = dir.path().join(format!("slow.{suffix}"));
        async move { path.exists().then_some(()) }
    };
    until(DEADLINE, || exists("started"))
        .await
        .expect("the other call is in flight");
    let greet = || GetPromptRequestParams::new("py_greet");
    let refused = asking.peer().get_prompt(greet()).await;
    let message = format!("{refused:?}");
    assert!(refused.is_err(), "{message}");
    assert!(message.contains("2 calls are in flight"), "{message}");
    assert!(bystander.asked().is_empty(), "{:?}", bystander.asked());
    assert!(asker.asked().is_empty(), "{:?}", asker.asked());
    waiting
        .peer()
        .notify_cancelled(CancelledNotificationParam::new(Some(slow.id.clone()), None))
        .await
        .expect("notifications/cancelled sent");
    until(DEADLINE, || exists("cancelled"))
        .await
        .expect("the other call ended");
    let greeted = asking
        .peer()
        .get_prompt(greet())
        .await
        .expect("prompts/get");
    let text = serde_json::to_string(&greeted.messages).unwrap_or_default();
    assert!(text.contains("hello Ada Lovelace"), "{text}");
    assert_eq!(asker.asked().len(), 1, "{:?}", asker.asked());
    assert!(bystander.asked().is_empty(), "{:?}", bystander.asked());
    let _ = waiting.cancel().await;
    let _ = asking.cancel().await;
}

/// The official Python SDK client in 2026-07-28 asks for a call's log messages in the request's
/// `_meta`: the aggregator passes the level on to the backend, and the demo backend, which sends
/// one message at the level it was asked for, is heard at exactly that level. A call that asks
/// for none gets none.
#[test]
fn a_2026_07_28_calls_log_level_reaches_the_backend() {
    let Some(python) = peers::python() else {
        return;
    };
    let aggregator = Aggregator::start(&[], &[]);
    let call = |level: &str| {
        peers::run_json(
            Command::new(&python)
                .arg(peers::dir().join("python/levels.py"))
                .args([aggregator.mcp(), "files_echo", level]),
            DEADLINE,
        )
    };
    let warned = call("warning");
    assert_eq!(warned["protocolVersion"], "2026-07-28", "{warned}");
    assert_eq!(warned["text"], "files: hi", "{warned}");
    assert_eq!(
        warned["logged"],
        json!([{ "level": "warning", "data": "files: asked for log messages at warning" }]),
        "{warned}"
    );
    let quiet = call("none");
    assert_eq!(quiet["text"], "files: hi", "{quiet}");
    assert_eq!(quiet["logged"], json!([]), "{quiet}");
}
