//! The official MCP SDKs' clients through the aggregator: the Python SDK (`mcp`, both protocol
//! generations) and the TypeScript SDK (`@modelcontextprotocol/sdk`, three protocol versions)
//! list tools, resources, resource templates and prompts, call a tool that succeeds, one that
//! returns a tool error and one that fails with a JSON-RPC error, read a resource, get a prompt
//! and complete an argument. Each answer must equal what the same client gets from the backends
//! directly: a list through the aggregator is the backends' lists merged, every other answer the
//! owning backend's, once volatile fields (`_meta`, cache hints) are set aside.
//!
//! The peers come from `scripts/install-peers` (see `only1mcp_obs_e2e::peers`).

use only1mcp_obs_e2e::peers::{self, Aggregator, Node};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

/// One driver run: start-up of the interpreter and the SDK included.
const DEADLINE: Duration = Duration::from_secs(60);

/// The lists and the key of their items.
const LISTS: [(&str, &str); 4] = [
    ("tools/list", "tools"),
    ("resources/list", "resources"),
    ("prompts/list", "prompts"),
    ("resources/templates/list", "resourceTemplates"),
];

/// Fields that may differ between two servers giving the same answer.
const VOLATILE: [&str; 3] = ["_meta", "ttlMs", "cacheScope"];

fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !VOLATILE.contains(&key.as_str()));
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// A list's items in a stable order (the merge order of backends is not part of the contract).
fn sort_items(result: &mut Value, key: &str) {
    if let Some(items) = result.pointer_mut(&format!("/ok/{key}")) {
        let items = items.as_array_mut().expect("items");
        items.sort_by_key(|item| format!("{}|{}", item["name"], item["uri"]));
    }
}

/// What the aggregator should answer: the backends' lists merged, the rest from `files`.
fn expected(files: &Value, search: &Value) -> Value {
    let mut expected = files.clone();
    for (op, key) in LISTS {
        let mut merged = files[op].clone();
        let extra = search[op]["ok"][key]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(items) = merged.pointer_mut(&format!("/ok/{key}")) {
            items.as_array_mut().expect("items").extend(extra);
        }
        sort_items(&mut merged, key);
        expected[op] = merged;
    }
    expected
}

/// Differences between the aggregator's answers and the backends', one line per operation.
fn differences(through: &Value, expected: &Value) -> Vec<String> {
    let (Some(through), Some(expected)) = (through.as_object(), expected.as_object()) else {
        return vec!["not JSON objects".into()];
    };
    let mut ops: Vec<&String> = through.keys().chain(expected.keys()).collect();
    ops.sort();
    ops.dedup();
    ops.into_iter()
        .filter(|op| through.get(*op) != expected.get(*op))
        .map(|op| {
            format!(
                "{op}:\n  through the aggregator: {}\n  from the backend:       {}",
                through.get(op).unwrap_or(&Value::Null),
                expected.get(op).unwrap_or(&Value::Null)
            )
        })
        .collect()
}

/// The answers every correct server gives, whatever the client: so that two equally wrong
/// answers do not pass as equal.
fn check_answers(results: &Value, protocol: &str) {
    let at = |op: &str, pointer: &str| results[op].pointer(pointer).cloned().unwrap_or(Value::Null);
    let names = |op: &str, key: &str| {
        let mut names: Vec<String> = at(op, &format!("/ok/{key}"))
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| item["name"].as_str().unwrap_or("?").to_owned())
            .collect();
        names.sort();
        json!(names)
    };
    let checks = [
        (
            "protocolVersion",
            results["protocolVersion"].clone(),
            json!(protocol),
        ),
        (
            "tool names",
            names("tools/list", "tools"),
            json!([
                "files_echo",
                "files_fail",
                "files_flaky",
                "search_echo",
                "search_fail",
                "search_flaky"
            ]),
        ),
        (
            "resource uris",
            json!(
                at("resources/list", "/ok/resources")
                    .as_array()
                    .map(|r| r.iter().map(|r| r["uri"].clone()).collect::<Vec<_>>())
                    .map(|mut uris| {
                        uris.sort_by_key(|u| u.to_string());
                        uris
                    })
            ),
            json!(["demo://files/readme", "demo://search/readme"]),
        ),
        (
            "prompt names",
            names("prompts/list", "prompts"),
            json!(["files_greet", "search_greet"]),
        ),
        (
            "echo",
            at("tools/call files_echo", "/ok/content/0/text"),
            json!("files: interop"),
        ),
        (
            "echo is no error",
            json!(at("tools/call files_echo", "/ok/isError").as_bool() == Some(true)),
            json!(false),
        ),
        (
            "tool error",
            at("tools/call files_flaky", "/ok/isError"),
            json!(true),
        ),
        (
            "JSON-RPC error code",
            at("tools/call files_fail", "/error/code"),
            json!(-32602),
        ),
        (
            "resource text",
            at("resources/read", "/ok/contents/0/text"),
            json!("files serves demo://files/readme"),
        ),
        (
            "prompt text",
            at("prompts/get files_greet", "/ok/messages/0/content/text"),
            json!("files greets ada"),
        ),
        (
            "completions of \"a\"",
            at("completion/complete", "/ok/completion/values"),
            json!(["ada", "alan"]),
        ),
    ];
    let wrong: Vec<String> = checks
        .into_iter()
        .filter(|(_, got, want)| got != want)
        .map(|(what, got, want)| format!("{what}: got {got}, want {want}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "through the aggregator:\n{}\nall answers: {results:#}",
        wrong.join("\n")
    );
}

/// Runs `driver` (a command missing only its URL and list flag) against the aggregator and
/// against each backend directly, and compares.
fn differential(driver: impl Fn(&str, bool) -> Command, protocol: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let aggregator = Aggregator::start(dir.path(), |_| {});
    let mut through = peers::run_json(&mut driver(&aggregator.mcp, false), DEADLINE);
    let mut files = peers::run_json(&mut driver(aggregator.backend("files"), false), DEADLINE);
    let mut search = peers::run_json(&mut driver(aggregator.backend("search"), true), DEADLINE);
    for results in [&mut through, &mut files, &mut search] {
        normalise(results);
    }
    for (op, key) in LISTS {
        sort_items(&mut through[op], key);
    }
    println!("through the aggregator: {through:#}");
    let expected = expected(&files, &search);
    let differences = differences(&through, &expected);
    assert!(
        differences.is_empty(),
        "the aggregator's answers differ from the backends':\n{}",
        differences.join("\n")
    );
    check_answers(&through, protocol);
}

fn python_client(mode: &str, protocol: &str) {
    let Some(python) = peers::python() else {
        return;
    };
    let script = peers::dir().join("python/drive.py");
    let driver = |url: &str, only_lists: bool| {
        let mut command = Command::new(&python);
        command.arg(&script).args([url, mode]);
        if only_lists {
            command.arg("lists");
        }
        command
    };
    differential(driver, protocol);
}

fn typescript_client(protocol: &str) {
    let Some(node) = Node::installed() else {
        return;
    };
    let script = peers::dir().join("node/drive.cjs");
    let driver = |url: &str, only_lists: bool| {
        let mut command = node.command();
        command.arg(&script).args([url, protocol]);
        if only_lists {
            command.arg("lists");
        }
        command
    };
    differential(driver, protocol);
}

#[test]
fn python_sdk_client_initialize_2025_11_25() {
    python_client("legacy", "2025-11-25");
}

#[test]
fn python_sdk_client_stateless_2026_07_28() {
    python_client("2026-07-28", "2026-07-28");
}

#[test]
fn python_sdk_client_auto_discovers_2026_07_28() {
    python_client("auto", "2026-07-28");
}

#[test]
fn typescript_sdk_client_2025_11_25() {
    typescript_client("2025-11-25");
}

#[test]
fn typescript_sdk_client_2025_06_18() {
    typescript_client("2025-06-18");
}

#[test]
fn typescript_sdk_client_2025_03_26() {
    typescript_client("2025-03-26");
}
