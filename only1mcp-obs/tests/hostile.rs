//! Hostile input, driven in-process: tool names a client makes up never become label values,
//! and memory stays flat however many arrive. (Alone in its process: it measures memory.)

use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::metrics::encode_text;
use only1mcp_obs::trace::ErrorClass;
use std::collections::HashSet;

/// A server's `tools/call`: it serves `real_*` tools; any other name is an unknown tool, which
/// MCP answers with -32602.
#[mcp_instrumented(method = "tools/call", target = name)]
async fn handle(name: &str) -> Result<(), ErrorClass> {
    if name.starts_with("real_") {
        Ok(())
    } else {
        Err(ErrorClass::JsonRpc(-32602))
    }
}

/// Distinct `gen_ai_tool_name` values on the page for `family`.
fn tool_values(page: &str, family: &str) -> HashSet<String> {
    page.lines()
        .filter(|l| l.starts_with(family))
        .filter_map(|l| {
            let rest = &l[l.find("gen_ai_tool_name=\"")? + "gen_ai_tool_name=\"".len()..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

/// Resident memory of this process, from /proc.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::test]
async fn a_million_made_up_tool_names_leave_real_tools_their_series() {
    handle("real_search").await.expect("a real tool");
    let before = resident_bytes();
    for i in 0..1_000_000u32 {
        let name = format!("made-up-{i}");
        assert!(handle(&name).await.is_err());
    }
    let grown = resident_bytes().saturating_sub(before);
    // A real tool first called after the burst still gets its own series.
    handle("real_fetch").await.expect("a real tool");

    let page = encode_text();
    let family = "mcp_server_operation_duration_seconds_count";
    let values = tool_values(&page, family);
    println!(
        "1 000 000 made-up names: {} tool label values {values:?}; resident memory grew {} KiB",
        values.len(),
        grown / 1024
    );
    assert!(values.contains("real_search") && values.contains("real_fetch"));
    assert!(values.contains("_unknown"), "{values:?}");
    assert!(
        !values.iter().any(|v| v.starts_with("made-up")),
        "{values:?}"
    );
    // The domain's bound (32 values and the overflow value) holds.
    assert!(values.len() <= 33, "{values:?}");
    let unknown = format!(
        "{family}{{mcp_method_name=\"tools/call\",error_type=\"-32602\",gen_ai_tool_name=\"_unknown\"}} 1000000"
    );
    assert!(page.contains(&unknown), "{unknown} not on the page");
    // Nothing per name is kept: the growth is the allocator's noise, not a million entries.
    assert!(grown < 32 << 20, "resident memory grew {grown} bytes");
}

#[test]
fn an_unclassified_error_is_a_value_not_an_overflow() {
    use only1mcp_obs::catalogue::ErrorType;
    let other = ErrorType::new("_OTHER");
    assert!(!other.is_overflow());
    assert_eq!(other.as_str(), "_OTHER");
    assert_eq!(ErrorType::OVERFLOW.as_str(), "_overflow");
}
