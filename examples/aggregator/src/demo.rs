//! `--demo`: a real MCP client (rmcp's) drives traffic through the aggregator, then prints a
//! summary of what was recorded.

use only1mcp_obs::audit::AuditLog;
use only1mcp_obs::integrations::rmcp::inject;
use only1mcp_obs::mcp_instrumented;
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceError, ServiceExt};
use std::path::Path;

type Client = RunningService<RoleClient, ClientConfig>;

#[mcp_instrumented(method = "tools/call", target = name, kind = client, server_id = "aggregator")]
async fn call(client: &Client, name: &str, text: &str) -> Result<CallToolResponse, ServiceError> {
    let mut request = CallToolRequestParams::new(name.to_owned()).with_arguments(
        serde_json::json!({ "text": text })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    inject(&mut request.meta);
    client.peer().call_tool_once(request).await
}

fn series_total(page: &str, prefix: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(crate) async fn run(
    url: &str,
    audit: Option<(&AuditLog, &Path)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let transport = StreamableHttpClientTransport::from_uri(url.to_owned());
    let client = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("only1mcp-demo", env!("CARGO_PKG_VERSION")),
    )
    .serve(transport)
    .await?;
    let tools = client.list_all_tools().await?;
    let resources = client.list_all_resources().await?;
    let prompts = client.list_all_prompts().await?;
    say!(
        "demo: {} tools, {} resources, {} prompts through the aggregator",
        tools.len(),
        resources.len(),
        prompts.len()
    );
    let outcomes = call_tools(&client, &tools).await;
    read_all(&client, &resources, &prompts).await?;
    client.cancel().await?;
    summarize(outcomes, audit)
}

/// Calls every tool three times over; counts the calls that succeeded, that the tool failed
/// and that failed outright.
async fn call_tools(client: &Client, tools: &[Tool]) -> (usize, usize, usize) {
    let mut outcomes = (0, 0, 0);
    for _ in 0..3 {
        for tool in tools {
            // The same arguments every round: repeated echo calls are answered from the cache.
            match call(client, &tool.name, "hello").await {
                Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => outcomes.1 += 1,
                Ok(_) => outcomes.0 += 1,
                Err(_) => outcomes.2 += 1,
            }
        }
    }
    outcomes
}

/// Reads every resource and gets every prompt once.
async fn read_all(
    client: &Client,
    resources: &[Resource],
    prompts: &[Prompt],
) -> Result<(), ServiceError> {
    for resource in resources {
        client
            .read_resource(ReadResourceRequestParams::new(resource.uri.clone()))
            .await?;
    }
    for prompt in prompts {
        let args = serde_json::json!({ "who": "demo" })
            .as_object()
            .cloned()
            .unwrap_or_default();
        client
            .get_prompt(GetPromptRequestParams::new(prompt.name.clone()).with_arguments(args))
            .await?;
    }
    Ok(())
}

/// Prints what the metrics page and the audit log recorded of the demo's calls.
fn summarize(
    outcomes: (usize, usize, usize),
    audit: Option<(&AuditLog, &Path)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let page = only1mcp_obs::metrics::encode_text();
    let records = match audit {
        Some((log, path)) => {
            log.sync()?;
            only1mcp_obs::audit::read(path)
                .map(|r| r.records)
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let cached = records
        .iter()
        .filter(|r| r.outcome == "success_cached")
        .count();
    let to_backends: f64 = ["files", "search"]
        .iter()
        .map(|b| {
            series_total(
                &page,
                &format!("only1mcp_mcp_requests_total{{server_id=\"{b}\""),
            )
        })
        .sum();
    say!(
        "demo: tool calls: {} ok, {} tool errors, {} errors",
        outcomes.0,
        outcomes.1,
        outcomes.2
    );
    say!(
        "demo: {to_backends} requests reached the backends; {cached} answered from the aggregator's cache"
    );
    say!(
        "demo: {} tokens saved; {} audit records in {}",
        series_total(&page, "only1mcp_context_tokens_saved_total"),
        records.len(),
        audit.map_or("(audit off)".into(), |(_, path)| path.display().to_string())
    );
    say!("demo: the metrics page, the JSON logs above and the traces carry the rest");
    Ok(())
}
