//! A client's cancellation reaches the backend: a Python SDK server behind the aggregator (over
//! stdio) is in the middle of a slow tool when the client sends `notifications/cancelled` for
//! its call; the aggregator stops waiting and cancels its own call at the backend, whose tool
//! sees the cancellation.

use only1mcp_obs_e2e::mcp_http::{Aggregator, until};
use only1mcp_obs_e2e::peers;
use rmcp::ServiceExt;
use rmcp::model::*;
use rmcp::service::PeerRequestOptions;
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
    let client = tokio::time::timeout(
        DEADLINE,
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("cancellation-test", "1.0"),
        )
        .serve(StreamableHttpClientTransport::from_uri(
            aggregator.mcp().to_owned(),
        )),
    )
    .await
    .expect("initialize in time")
    .expect("initialize");
    let marker = dir.path().join("slow");
    let params = CallToolRequestParams::new("py_slow").with_arguments(
        json!({ "marker": marker })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    let handle = client
        .peer()
        .send_request_with_option(
            ClientRequest::CallToolRequest(CallToolRequest::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
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
