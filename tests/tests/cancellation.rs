//! A client's cancellation reaches the backend: a Python SDK server behind the aggregator (over
//! stdio) is in the middle of a slow tool when the client sends `notifications/cancelled` for
//! its call; the aggregator stops waiting and cancels its own call at the backend, whose tool
//! sees the cancellation.

use only1mcp_obs_e2e::mcp_client::{connect, send_tool_call};
use only1mcp_obs_e2e::mcp_http::{Aggregator, until};
use only1mcp_obs_e2e::peers;
use rmcp::model::*;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_cancellation_reaches_the_backends_tool() {
    let Some(python) = peers::python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = peers::python_server_config(dir.path(), &python, &[]);
    let aggregator = Aggregator::start(&["--config", config.to_str().expect("path")], &[]);
    let client = connect(
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("cancellation-test", "1.0"),
        ),
        StreamableHttpClientTransport::from_uri(aggregator.mcp().to_owned()),
    )
    .await;
    let marker = dir.path().join("slow");
    let handle = send_tool_call(client.peer(), "py_slow", json!({ "marker": marker })).await;
    let exists = |suffix: &str| {
        let path = dir.path().join(format!("slow.{suffix}"));
        async move { path.exists().then_some(()) }
    };
    until(DEADLINE, || exists("started"))
        .await
        .expect("the backend's tool started");
    client
        .peer()
        .notify_cancelled(CancelledNotificationParam::new(
            Some(handle.id.clone()),
            Some("the user gave up".to_owned()),
        ))
        .await
        .expect("notifications/cancelled sent");
    until(DEADLINE, || exists("cancelled"))
        .await
        .expect("the backend's tool was cancelled");
    let _ = client.cancel().await;
}
