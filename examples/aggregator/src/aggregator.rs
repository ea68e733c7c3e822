//! The aggregator: one MCP server in front of several backends. Lists are merged; `tools/call`,
//! `resources/read` and `prompts/get` go to the backend that owns the name. Every hop is
//! instrumented, and the trace context travels in `params._meta`.
//!
//! A backend's tools and prompts are exposed as its `prefix` followed by their own name (see
//! `config`), and forwarded without it. A name goes to the backend that listed it last (each
//! list, and each connection, refreshes what a backend serves); failing that, to the backend
//! whose prefix it carries. A resource URI goes to the backend that listed it, or a template
//! whose fixed part it starts with.

use crate::cache::ToolCache;
use crate::changes::{Changes, accepted_filter};
use crate::forwarded::Forwarded;
use crate::relay::{Caller, is_stateless};
use crate::rounds::{self, InFlight};
pub(crate) use crate::upstream::Upstream;
use only1mcp_obs::audit::{AuditEvent, AuditLog};
use only1mcp_obs::business::{OptimizationResult, record_optimization_result};
use only1mcp_obs::catalogue::{CacheType, OptimizationType};
use only1mcp_obs::integrations::rmcp::{TraceMeta, inject};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{Fields, SpanFields};
use rmcp::model::*;
use rmcp::service::PeerRequestOptions;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Peer, RoleClient, RoleServer, ServerHandler, ServiceError};
use std::sync::Arc;

type Ctx = RequestContext<RoleServer>;

#[mcp_instrumented(method = "tools/call", target = upstream.local(&request.name).unwrap_or(&request.name), kind = client, server_id = upstream.name, fields(..upstream))]
async fn forward_tool(
    upstream: &Upstream,
    mut request: CallToolRequestParams,
    caller: Caller,
) -> Result<CallToolResponse, ServiceError> {
    if let Some(local) = upstream.local(&request.name) {
        request.name = local.to_owned().into();
    }
    forward(upstream, request, caller).await
}

#[mcp_instrumented(method = "resources/read", kind = client, server_id = upstream.name, fields(..upstream))]
async fn forward_read(
    upstream: &Upstream,
    request: ReadResourceRequestParams,
    caller: Caller,
) -> Result<ReadResourceResponse, ServiceError> {
    forward(upstream, request, caller).await
}

#[mcp_instrumented(method = "prompts/get", target = request.name, kind = client, server_id = upstream.name, fields(..upstream))]
async fn forward_prompt(
    upstream: &Upstream,
    mut request: GetPromptRequestParams,
    caller: Caller,
) -> Result<GetPromptResponse, ServiceError> {
    if let Some(local) = upstream.local(&request.name) {
        request.name = local.to_owned();
    }
    forward(upstream, request, caller).await
}

#[mcp_instrumented(method = "completion/complete", kind = client, server_id = upstream.name, fields(..upstream))]
async fn forward_complete(
    upstream: &Upstream,
    mut request: CompleteRequestParams,
    caller: Caller,
) -> Result<CompleteResult, ServiceError> {
    if let Reference::Prompt(prompt) = &mut request.r#ref
        && let Some(local) = upstream.local(&prompt.name)
    {
        prompt.name = local.to_owned();
    }
    forward(upstream, request, caller).await
}

/// `request` (its names already the backend's own) sent to `upstream` for `caller`, with the
/// trace context and the client's log level in its `_meta`; or, when it is a `2026-07-28`
/// client's retry of a parked call, that call going on with the client's answer.
async fn forward<R: Forwarded>(
    upstream: &Upstream,
    mut request: R,
    mut caller: Caller,
) -> Result<R::Response, ServiceError> {
    let meta = request.meta();
    inject(meta);
    if let Some(level) = caller.log_level {
        meta.get_or_insert_default().set_log_level(level);
    }
    // The parent of the spans of what the backend relays to the client about this call.
    caller.trace = meta.clone();
    let subject = request.subject();
    if let (Some(state), responses) = request.retry()
        && let Some(state) = rounds::ours(state)
    {
        // A 2026-07-28 client back with its answer to the backend's request: the call goes on.
        let flight = upstream
            .parked
            .resume(state, subject, responses)
            .map_err(ServiceError::McpError)?;
        flight.rebind(caller);
        return upstream
            .within(flight.run::<R>(&upstream.parked, subject, upstream.timeout))
            .await;
    }
    let peer = upstream.peer().await?;
    upstream
        .within(call_relayed(upstream, &peer, request, subject, caller))
        .await
}

/// `request` registered in the backend's relay while it runs: what the backend sends about it
/// (progress, log messages, requests to the client) reaches the client that made it (see
/// `relay`), for a `2026-07-28` client as `input_required` rounds (see `rounds`).
async fn call_relayed<R: Forwarded>(
    upstream: &Upstream,
    peer: &Peer<RoleClient>,
    request: R,
    subject: crate::forwarded::Subject,
    mut caller: Caller,
) -> Result<R::Response, ServiceError> {
    let (asks, asked) = tokio::sync::mpsc::channel(1);
    if R::ROUNDS && is_stateless(caller.protocol.as_ref()) {
        caller.asks = Some(asks);
    }
    // The backend may ask about the call before it is registered: such a question waits.
    let sending = upstream.relay.sending();
    let handle = peer
        .send_request_with_option(request.into_request(), PeerRequestOptions::no_options())
        .await?;
    only1mcp_obs::call::record("jsonrpc.request.id", &handle.id.to_string());
    let registration = upstream
        .relay
        .register(handle.id.clone(), handle.progress_token.clone(), caller)
        .await;
    drop(sending);
    InFlight::new(handle, peer.clone(), registration, asked)
        .run::<R>(&upstream.parked, subject, upstream.timeout)
        .await
}

/// The call `context` made to `upstream`, as the relay knows it.
fn caller(context: &Ctx, upstream: &Upstream) -> Caller {
    let protocol = context.protocol_version();
    // Per-request log levels are a 2026-07-28 client's; an older session sets one for itself.
    let log_level = context
        .meta
        .log_level()
        .filter(|_| is_stateless(protocol.as_ref()));
    Caller {
        client: context.peer.clone(),
        request: context.id.clone(),
        progress: context.meta.get_progress_token(),
        trace: None,
        timeout: upstream.timeout,
        protocol,
        log_level,
        capabilities: context.client_capabilities(),
        asks: None,
    }
}

/// The client's error for a failed forward: the backend's own MCP error, or one that names the
/// backend and what went wrong.
fn upstream_error(upstream: &Upstream, e: ServiceError) -> ErrorData {
    match e {
        ServiceError::McpError(e) => e,
        ServiceError::TransportClosed => ErrorData::internal_error(
            format!(
                "backend {} is not connected (down or restarting); try again later",
                upstream.name
            ),
            None,
        ),
        other => ErrorData::internal_error(format!("backend {}: {other}", upstream.name), None),
    }
}

/// Marks a forwarded result as complete when the backend left `resultType` out.
///
/// A backend on protocol `2025-11-25` (or older) sends no `resultType`; a client on `2026-07-28`
/// requires it. rmcp's server strips it again for clients on an older protocol, so setting it
/// here is right for both generations.
trait MarkComplete {
    fn mark_complete(self) -> Self;
}

impl MarkComplete for CallToolResponse {
    fn mark_complete(mut self) -> Self {
        if let CallToolResponse::Complete(result) = &mut self {
            result.result_type.get_or_insert(ResultType::COMPLETE);
        }
        self
    }
}

impl MarkComplete for ReadResourceResponse {
    fn mark_complete(mut self) -> Self {
        if let ReadResourceResponse::Complete(result) = &mut self {
            result.result_type.get_or_insert(ResultType::COMPLETE);
        }
        self
    }
}

impl MarkComplete for GetPromptResponse {
    fn mark_complete(mut self) -> Self {
        if let GetPromptResponse::Complete(result) = &mut self {
            result.result_type.get_or_insert(ResultType::COMPLETE);
        }
        self
    }
}

impl MarkComplete for CompleteResult {
    fn mark_complete(mut self) -> Self {
        self.result_type.get_or_insert(ResultType::COMPLETE);
        self
    }
}

/// `jsonrpc.request.id` of the request being handled.
/// The attributes of a request a client sent: its JSON-RPC id, the session (digested), the
/// protocol version, and the client's end of the connection.
struct Received<'a>(&'a Ctx);

impl SpanFields for Received<'_> {
    fn record_fields(&self, fields: &mut Fields<'_>) {
        let context = self.0;
        fields.record("jsonrpc.request.id", &context.id.to_string());
        fields.record("mcp.session.id", &session_id(context));
        fields.record("mcp.protocol.version", &protocol_version(context));
        fields.record("network.transport", "tcp");
        let client = client_socket(context);
        fields.record("client.address", &client.map(|a| a.ip().to_string()));
        fields.record("client.port", &client.map(|a| a.port()));
    }
}

/// `forwarded` unless the client cancels its request first (`notifications/cancelled`, or a
/// closed stream): then the forward is dropped, which cancels it at the backend too.
async fn until_cancelled<T>(
    context: &Ctx,
    forwarded: impl std::future::Future<Output = Result<T, ServiceError>>,
) -> Result<T, ServiceError> {
    tokio::select! {
        result = forwarded => result,
        () = context.ct.cancelled() => Err(ServiceError::Cancelled {
            reason: Some("cancelled by the client".to_owned()),
        }),
    }
}

/// The request `forward`ed to `upstream` for the client of `context`, until the client cancels
/// it: the backend's answer marked complete, or its error as the client gets it.
async fn answer<T: MarkComplete, Forward>(
    context: &Ctx,
    upstream: &Upstream,
    forward: impl FnOnce(Caller) -> Forward,
) -> Result<T, ErrorData>
where
    Forward: std::future::Future<Output = Result<T, ServiceError>>,
{
    until_cancelled(context, forward(caller(context, upstream)))
        .await
        .map(MarkComplete::mark_complete)
        .map_err(|e| upstream_error(upstream, e))
}

/// The `Mcp-Session-Id` header of the HTTP request, when the session has one.
fn raw_session_id(context: &Ctx) -> Option<&str> {
    let parts = context.extensions.get::<axum::http::request::Parts>()?;
    parts.headers.get("mcp-session-id")?.to_str().ok()
}

/// `mcp.session.id` as recorded: a session id is a bearer credential for the session, so spans
/// carry a digest of it (stable, enough to correlate calls of one session), never the id.
fn session_id(context: &Ctx) -> Option<String> {
    raw_session_id(context).map(only1mcp_obs::trace::digest)
}

/// The peer of the HTTP connection a call came on (`client.address`, `client.port`).
fn client_socket(context: &Ctx) -> Option<std::net::SocketAddr> {
    let parts = context.extensions.get::<axum::http::request::Parts>()?;
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0)
}

/// `mcp.protocol.version` negotiated with the client.
fn protocol_version(context: &Ctx) -> Option<String> {
    context
        .peer
        .peer_info()
        .map(|info| info.protocol_version.to_string())
}

#[derive(Clone)]
pub(crate) struct Aggregator {
    pub(crate) upstreams: Arc<Vec<Arc<Upstream>>>,
    pub(crate) audit: Option<Arc<AuditLog>>,
    cache: Arc<ToolCache>,
    changes: Changes,
}

impl Aggregator {
    pub(crate) fn new(
        upstreams: Arc<Vec<Arc<Upstream>>>,
        audit: Option<Arc<AuditLog>>,
        cache: Arc<ToolCache>,
        changes: Changes,
    ) -> Self {
        Aggregator {
            upstreams,
            audit,
            cache,
            changes,
        }
    }

    /// Every tool the healthy backends list, under the names clients see. Each backend's list
    /// routes later calls to it.
    pub(crate) async fn tools(&self) -> Result<Vec<Tool>, ErrorData> {
        let list = |peer: Peer<RoleClient>| async move { peer.list_all_tools().await };
        Ok(self
            .gather("tools/list", list, |upstream, listed| {
                upstream.remember_tools(&listed);
                listed
                    .into_iter()
                    .map(|mut tool| {
                        tool.name = upstream.exposed(&tool.name).into();
                        tool
                    })
                    .collect()
            })
            .await)
    }

    /// What every healthy backend lists with `list` (`method`), each backend's list passed
    /// through `keep`, which remembers it and names its items as clients see them. One backend
    /// failing or hung must not hide every other backend's items: it is logged and skipped.
    async fn gather<T, Listing>(
        &self,
        method: &'static str,
        list: impl Fn(Peer<RoleClient>) -> Listing,
        keep: impl Fn(&Upstream, Vec<T>) -> Vec<T>,
    ) -> Vec<T>
    where
        Listing: Future<Output = Result<Vec<T>, ServiceError>>,
    {
        let mut all = Vec::new();
        for upstream in self.healthy() {
            let peer = match upstream.peer().await {
                Ok(peer) => peer,
                Err(e) => {
                    tracing::warn!(backend = %upstream.name, error = %e, "skipping backend");
                    continue;
                }
            };
            match upstream.within(list(peer)).await {
                Ok(listed) => all.extend(keep(upstream, listed)),
                Err(e) => {
                    tracing::warn!(backend = %upstream.name, error = %e, method, "listing failed")
                }
            }
        }
        all
    }

    fn healthy(&self) -> impl Iterator<Item = &Arc<Upstream>> {
        self.upstreams.iter().filter(|u| u.is_healthy())
    }

    /// The backend that listed the tool `name` (as clients see it); failing that, the first
    /// whose prefix `name` carries, or (the built-in demo backends, whose names carry their
    /// own) whose name prefixes it: it answers for a tool it does not know.
    fn tool_owner(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams
            .iter()
            .find(|u| u.lists_tool(name))
            .or_else(|| self.by_prefix(name))
    }

    /// The backend that listed the prompt `name`, or whose prefix `name` carries.
    fn prompt_owner(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams
            .iter()
            .find(|u| u.lists_prompt(name))
            .or_else(|| self.by_prefix(name))
    }

    /// The backend that listed the resource `uri` (or a template it fits).
    fn resource_owner(&self, uri: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.iter().find(|u| u.lists_resource(uri))
    }

    fn by_prefix(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.iter().find(|u| {
            (!u.prefix.is_empty() && name.starts_with(&u.prefix))
                || (u.prefix.is_empty() && name.starts_with(&format!("{}_", u.name)))
        })
    }

    fn actor(context: &Ctx) -> String {
        context
            .peer
            .peer_info()
            .map(|info| info.client_info.name.clone())
            .unwrap_or_else(|| "anonymous".to_owned())
    }

    fn audit_tool(&self, context: &Ctx, server: &str, tool: &str, outcome: &str) {
        let event = AuditEvent::ToolInvocation {
            server_id: server.to_owned(),
            tool: tool.to_owned(),
        };
        let Some(audit) = &self.audit else {
            return;
        };
        // Queued for the audit writer thread: the request never waits for the disk.
        if let Err(e) = audit.record(&Self::actor(context), &event, outcome) {
            tracing::error!(error = %e, "audit record not queued");
        }
    }

    /// Entries and bytes in the tool-result cache, for the readiness check.
    pub(crate) fn cache_size(&self) -> (usize, usize) {
        self.cache.size()
    }
}

#[mcp_instrumented]
impl ServerHandler for Aggregator {
    #[mcp_instrumented(skip)]
    #[allow(deprecated)] // Logging is still part of protocol 2025-11-25, which clients speak.
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_logging()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            "only1mcp-aggregator",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    #[mcp_instrumented(skip)]
    async fn on_initialized(&self, context: rmcp::service::NotificationContext<RoleServer>) {
        // A 2025-11-25 session: told of every backend's list change from now on.
        self.changes.relay_to_session(context.peer);
    }

    #[mcp_instrumented(skip)]
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(accepted_filter(requested))
    }

    /// A 2026-07-28 client's listen stream: told of the list changes it asked for. Not a span:
    /// it lasts as long as the client listens.
    #[mcp_instrumented(skip)]
    async fn listen(
        &self,
        subscription: rmcp::service::SubscriptionContext,
    ) -> Result<(), ErrorData> {
        self.changes.relay_to_subscription(subscription).await;
        Ok(())
    }

    async fn list_tools(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools().await?))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta), fields(..Received(&context)))]
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: Ctx,
    ) -> Result<CallToolResponse, ErrorData> {
        let tool = request.name.to_string();
        let upstream = self
            .tool_owner(&tool)
            .cloned()
            .ok_or_else(|| ErrorData::invalid_params(format!("unknown tool {tool}"), None))?;
        let arguments = serde_json::to_string(&request.arguments).unwrap_or_default();
        // A later round of a call that asked its client (`input_required`) depends on the
        // client's answers: neither served from the cache nor kept in it.
        let identity = raw_session_id(&context).filter(|_| request.request_state.is_none());
        if let Some(hit) = self.cache.get(identity, &tool, &arguments) {
            only1mcp_obs::call::cache_hit(true);
            // About four bytes of JSON per token: what the backend was spared and the client still got.
            let tokens = match &hit {
                CallToolResponse::Complete(result) => {
                    serde_json::to_string(result).map_or(0, |s| s.len() as u64 / 4)
                }
                _ => 0,
            };
            record_optimization_result(&OptimizationResult {
                optimization_type: OptimizationType::CacheHit,
                tokens_saved: tokens,
                cache_type: CacheType::ToolResult,
                cache_hit: true,
            });
            self.audit_tool(&context, &upstream.name, &tool, "success_cached");
            return Ok(hit.mark_complete());
        }
        only1mcp_obs::call::cache_hit(false);
        let result = answer(&context, &upstream, |caller| {
            forward_tool(&upstream, request, caller)
        })
        .await;
        let outcome = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
            Ok(_) => "success",
            Err(_) => "failure",
        };
        self.audit_tool(&context, &upstream.name, &tool, outcome);
        if let Ok(response) = &result
            && outcome == "success"
        {
            self.cache.put(identity, &tool, &arguments, response);
            record_optimization_result(&OptimizationResult {
                optimization_type: OptimizationType::CacheHit,
                tokens_saved: 0,
                cache_type: CacheType::ToolResult,
                cache_hit: false,
            });
        }
        result
    }

    async fn list_resources(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListResourcesResult, ErrorData> {
        let list = |peer: Peer<RoleClient>| async move { peer.list_all_resources().await };
        let resources = self
            .gather("resources/list", list, |upstream, listed| {
                upstream.remember_resources(&listed);
                listed
            })
            .await;
        Ok(ListResourcesResult::with_all_items(resources))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(..Received(&context)))]
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: Ctx,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let upstream = self
            .resource_owner(&request.uri)
            .cloned()
            .ok_or_else(|| ErrorData::resource_not_found(request.uri.clone(), None))?;
        answer(&context, &upstream, |caller| {
            forward_read(&upstream, request, caller)
        })
        .await
    }

    async fn list_prompts(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListPromptsResult, ErrorData> {
        let list = |peer: Peer<RoleClient>| async move { peer.list_all_prompts().await };
        let prompts = self
            .gather("prompts/list", list, |upstream, listed| {
                upstream.remember_prompts(&listed);
                listed
                    .into_iter()
                    .map(|mut prompt| {
                        prompt.name = upstream.exposed(&prompt.name);
                        prompt
                    })
                    .collect()
            })
            .await;
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta), fields(..Received(&context)))]
    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: Ctx,
    ) -> Result<GetPromptResponse, ErrorData> {
        let upstream = self.prompt_owner(&request.name).cloned().ok_or_else(|| {
            ErrorData::invalid_params(format!("unknown prompt {}", request.name), None)
        })?;
        answer(&context, &upstream, |caller| {
            forward_prompt(&upstream, request, caller)
        })
        .await
    }

    async fn list_resource_templates(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        // Only a backend with resources has templates to list.
        let list = |peer: Peer<RoleClient>| async move {
            let info = peer.peer_info();
            if info.is_none_or(|i| i.capabilities.resources.is_none()) {
                return Ok(Vec::new());
            }
            peer.list_all_resource_templates().await
        };
        let templates = self
            .gather("resources/templates/list", list, |upstream, listed| {
                upstream.remember_templates(&listed);
                listed
            })
            .await;
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(..Received(&context)))]
    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: Ctx,
    ) -> Result<CompleteResult, ErrorData> {
        let owner = match &request.r#ref {
            Reference::Prompt(prompt) => self.prompt_owner(&prompt.name),
            Reference::Resource(resource) => self.resource_owner(&resource.uri),
            _ => None,
        };
        let owner = match owner {
            Some(u)
                if u.peer_info()
                    .await
                    .is_some_and(|i| i.capabilities.completions.is_some()) =>
            {
                Some(u.clone())
            }
            _ => None,
        };
        let Some(upstream) = owner else {
            // Nothing to complete from: no backend that completes owns the reference.
            return Ok(CompleteResult::default().mark_complete());
        };
        answer(&context, &upstream, |caller| {
            forward_complete(&upstream, request, caller)
        })
        .await
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(..Received(&context)))]
    #[allow(deprecated)] // Logging is still part of protocol 2025-11-25, which clients speak.
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: Ctx,
    ) -> Result<(), ErrorData> {
        // This session gets the backends' log messages at that level and above.
        if let Some(session) = raw_session_id(&context) {
            self.changes
                .logs
                .set_level(session, context.peer.clone(), request.level);
        }
        // Every backend that logs gets the level; the aggregator's own log level is its
        // configuration's, not a client's to change.
        for upstream in self.healthy() {
            let Ok(peer) = upstream.peer().await else {
                continue;
            };
            if peer
                .peer_info()
                .is_some_and(|i| i.capabilities.logging.is_some())
            {
                let sent = upstream
                    .within(peer.set_level(SetLevelRequestParams::new(request.level)))
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(backend = %upstream.name, error = %e, "logging/setLevel not relayed");
                }
            }
        }
        Ok(())
    }
}
