//! The main job under test, driven with rmcp's MCP client: connect with a handler of the
//! test's choosing, and send a `tools/call` whose request handle (id, progress token) the test
//! keeps.

use rmcp::model::{CallToolRequest, CallToolRequestParams, ClientRequest};
use rmcp::service::{PeerRequestOptions, RequestHandle, RunningService};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt};
use std::time::Duration;

/// Longest the `initialize` exchange may take.
const INITIALIZE: Duration = Duration::from_secs(30);

/// A client session over `transport`, answered by `handler`.
pub async fn connect<H, T, E, A>(handler: H, transport: T) -> RunningService<RoleClient, H>
where
    H: ClientHandler,
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    tokio::time::timeout(INITIALIZE, handler.serve(transport))
        .await
        .expect("initialize in time")
        .expect("initialize")
}

/// Sends `tools/call` of `name` with `arguments` (a JSON object) on `peer`, without waiting for
/// the answer: the handle has the request's id and the progress token rmcp chose.
pub async fn send_tool_call(
    peer: &Peer<RoleClient>,
    name: &str,
    arguments: serde_json::Value,
) -> RequestHandle<RoleClient> {
    let params = CallToolRequestParams::new(name.to_owned())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default());
    peer.send_request_with_option(
        ClientRequest::CallToolRequest(CallToolRequest::new(params)),
        PeerRequestOptions::no_options(),
    )
    .await
    .expect("tools/call sent")
}
