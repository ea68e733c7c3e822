//! A backend's list change reaches the clients through the aggregator: a Python SDK server
//! behind it (over stdio) adds a tool during a call and says so; the official Python SDK client
//! hears it, as `notifications/tools/list_changed` in protocol 2025-11-25 and on a
//! `subscriptions/listen` stream in 2026-07-28, and the new tool is listed (and callable) at once.

use only1mcp_obs_e2e::peers;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn tool_list_change_reaches_the_client(mode: &str, protocol: &str, announced: &str) {
    let Some(got) =
        peers::python_client_through_python_server("listen.py", &[mode, "py_grow"], DEADLINE)
    else {
        return;
    };
    println!("{mode}: {got}");
    assert_eq!(got["protocolVersion"], protocol, "{got}");
    let names = |key: &str| -> Vec<String> {
        got[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(names("before").contains(&"py_grow".to_owned()), "{got}");
    assert!(!names("before").contains(&"py_grown".to_owned()), "{got}");
    assert!(names("after").contains(&"py_grown".to_owned()), "{got}");
    assert!(
        names("announced").iter().any(|a| a.contains(announced)),
        "{got}"
    );
}

#[test]
fn a_backends_tool_list_change_reaches_a_2025_11_25_session() {
    tool_list_change_reaches_the_client("legacy", "2025-11-25", "ToolListChanged");
}

#[test]
fn a_backends_tool_list_change_reaches_a_2026_07_28_listen_stream() {
    tool_list_change_reaches_the_client("2026-07-28", "2026-07-28", "ToolsListChanged");
}
