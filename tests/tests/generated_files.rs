//! The committed dashboards, alert rules, rule tests, runbooks, Alertmanager routing and
//! deployment files are what the aggregator's own binary generates (`only1mcp-aggregator
//! --generate DIR`): regenerate them with `cargo run -p only1mcp-aggregator -- --generate .`.
//! Run from the binary, the generator sees every instrumented function linked into it, so the
//! MCP operations dashboard has a row for each of the aggregator's.

use only1mcp_obs_e2e::workspace_binary;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    only1mcp_obs_e2e::workspace_root()
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under dir").to_owned());
            }
        }
    }
    out.sort();
    out
}

/// Generates into a temporary directory with the aggregator's binary; that directory.
fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(workspace_binary(
        "only1mcp-aggregator",
        "only1mcp-aggregator",
    ))
    .arg("--generate")
    .arg(dir.path())
    .output()
    .expect("run the aggregator");
    assert!(
        output.status.success(),
        "--generate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn the_committed_files_are_what_the_aggregator_generates() {
    let dir = generated();
    let written = files(dir.path());
    assert!(written.len() > 20, "{written:?}");
    let stale: Vec<&PathBuf> = written
        .iter()
        .filter(|path| {
            let fresh = std::fs::read_to_string(dir.path().join(path)).ok();
            let committed = std::fs::read_to_string(root().join(path)).ok();
            fresh != committed
        })
        .collect();
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}\nrun `cargo run -p only1mcp-aggregator -- --generate .` and commit the result"
    );
    // Nothing generated before is left behind: each generated directory holds only its output.
    for generated_dir in ["dashboards", "alerts", "docs/runbooks"] {
        let committed = files(&root().join(generated_dir));
        let fresh = files(&dir.path().join(generated_dir));
        assert_eq!(committed, fresh, "{generated_dir}");
    }
}

#[test]
fn the_mcp_operations_dashboard_has_a_row_per_instrumented_function_of_the_aggregator() {
    let dir = generated();
    let text = std::fs::read_to_string(dir.path().join("dashboards/only1mcp-mcp-operations.json"))
        .expect("the dashboard");
    // The aggregator's own functions: a server handler, a forward to a backend, a relay to a
    // client, each a row titled after its path and method.
    for row in [
        "only1mcp_aggregator::aggregator::call_tool (tools/call)",
        "only1mcp_aggregator::aggregator::forward_tool (tools/call)",
        "only1mcp_aggregator::relay::relay_sampling (sampling/createMessage)",
    ] {
        assert!(text.contains(row), "no row {row}");
    }
}
