//! The aggregator: one MCP server in front of several backends. Lists are merged; `tools/call`,
//! `resources/read` and `prompts/get` go to the backend that owns the name. Every hop is
//! instrumented, and the trace context travels in `params._meta`.

use crate::cache::{CacheLimits, ToolCache};
use only1mcp_obs::audit::{AuditEvent, AuditLog};
use only1mcp_obs::business::{OptimizationResult, record_optimization_result};
use only1mcp_obs::catalogue::{
    BACKEND_HEALTH_STATUS, BACKEND_LATENCY, CacheType, OptimizationType, ProbeEndpoint, ServerId,
    ToolName, TransportType,
};
use only1mcp_obs::integrations::rmcp::{TraceMeta, inject};
use only1mcp_obs::mcp_instrumented;
use rmcp::model::*;
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ErrorData, RoleClient, RoleServer, ServerHandler, ServiceError, ServiceExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

type Ctx = RequestContext<RoleServer>;
type Client = RunningService<RoleClient, ClientConfig>;

/// A backend the aggregator fronts.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) name: String,
    pub(crate) base_url: String,
    /// `server.address` and `server.port` of its calls, from the URL.
    address: String,
    port: Option<u16>,
    client: RwLock<Option<Client>>,
    healthy: AtomicBool,
}

impl Upstream {
    pub(crate) fn new(name: &str, base_url: &str) -> Self {
        let url = reqwest::Url::parse(base_url).ok();
        Upstream {
            name: name.to_owned(),
            base_url: base_url.to_owned(),
            address: url
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            port: url.as_ref().and_then(reqwest::Url::port_or_known_default),
            client: RwLock::new(None),
            healthy: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    async fn connect(&self) -> Result<(), String> {
        let transport = StreamableHttpClientTransport::from_uri(format!("{}/mcp", self.base_url));
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("only1mcp-aggregator", env!("CARGO_PKG_VERSION")),
        );
        let client = info
            .serve(transport)
            .await
            .map_err(|e| format!("{}: {e}", self.name))?;
        *self.client.write().await = Some(client);
        Ok(())
    }

    /// What the backend said of itself when the aggregator connected.
    async fn peer_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.peer().await.ok()?.peer_info()
    }

    async fn peer(&self) -> Result<rmcp::Peer<RoleClient>, ServiceError> {
        match self.client.read().await.as_ref() {
            Some(client) => Ok(client.peer().clone()),
            None => Err(ServiceError::TransportClosed),
        }
    }

    /// One health probe: GET the backend's liveness endpoint; reconnects after an outage.
    pub(crate) async fn probe(&self, http: &reqwest::Client) {
        let server = ServerId::new(&self.name);
        let start = Instant::now();
        let ok = http
            .get(format!("{}/health/live", self.base_url))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        BACKEND_LATENCY
            .labels(server, ProbeEndpoint::HttpHealth)
            .observe(start.elapsed().as_secs_f64());
        let was_healthy = self.healthy.load(Ordering::Relaxed);
        let now_healthy = ok && (was_healthy || self.connect().await.is_ok());
        if was_healthy != now_healthy {
            tracing::warn!(backend = %self.name, healthy = now_healthy, "backend health changed");
        }
        self.healthy.store(now_healthy, Ordering::Relaxed);
        BACKEND_HEALTH_STATUS
            .labels(server, TransportType::StreamableHttp)
            .set(if now_healthy { 1.0 } else { 0.0 });
    }
}

#[mcp_instrumented(method = "tools/call", target = request.name, kind = client, server_id = upstream.name, fields(
    "server.address" = upstream.address.as_str(),
    "server.port" = upstream.port,
    "network.transport" = "tcp",
))]
async fn forward_tool(
    upstream: &Upstream,
    mut request: CallToolRequestParams,
) -> Result<CallToolResponse, ServiceError> {
    inject(&mut request.meta);
    upstream.peer().await?.call_tool_once(request).await
}

#[mcp_instrumented(method = "resources/read", kind = client, server_id = upstream.name, fields(
    "server.address" = upstream.address.as_str(),
    "server.port" = upstream.port,
    "network.transport" = "tcp",
))]
async fn forward_read(
    upstream: &Upstream,
    mut request: ReadResourceRequestParams,
) -> Result<ReadResourceResponse, ServiceError> {
    inject(&mut request.meta);
    upstream.peer().await?.read_resource_once(request).await
}

#[mcp_instrumented(method = "prompts/get", target = request.name, kind = client, server_id = upstream.name, fields(
    "server.address" = upstream.address.as_str(),
    "server.port" = upstream.port,
    "network.transport" = "tcp",
))]
async fn forward_prompt(
    upstream: &Upstream,
    mut request: GetPromptRequestParams,
) -> Result<GetPromptResponse, ServiceError> {
    inject(&mut request.meta);
    upstream.peer().await?.get_prompt_once(request).await
}

#[mcp_instrumented(method = "completion/complete", kind = client, server_id = upstream.name, fields(
    "server.address" = upstream.address.as_str(),
    "server.port" = upstream.port,
    "network.transport" = "tcp",
))]
async fn forward_complete(
    upstream: &Upstream,
    mut request: CompleteRequestParams,
) -> Result<CompleteResult, ServiceError> {
    inject(&mut request.meta);
    upstream.peer().await?.complete(request).await
}

fn upstream_error(e: ServiceError) -> ErrorData {
    match e {
        ServiceError::McpError(e) => e,
        other => ErrorData::internal_error(format!("backend: {other}"), None),
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
fn request_id(context: &Ctx) -> String {
    context.id.to_string()
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
    pub(crate) audit: Arc<AuditLog>,
    cache: Arc<ToolCache>,
}

impl Aggregator {
    pub(crate) fn new(
        upstreams: Arc<Vec<Arc<Upstream>>>,
        audit: Arc<AuditLog>,
        limits: CacheLimits,
    ) -> Self {
        Aggregator {
            upstreams,
            audit,
            cache: Arc::new(ToolCache::new(limits)),
        }
    }

    /// Every tool the healthy backends list. Their names become label values (they are what
    /// the aggregator routes) and their annotations say which results may be cached.
    pub(crate) async fn tools(&self) -> Result<Vec<Tool>, ErrorData> {
        let mut tools = Vec::new();
        for upstream in self.healthy() {
            match upstream.peer().await {
                Ok(peer) => tools.extend(peer.list_all_tools().await.map_err(upstream_error)?),
                Err(e) => tracing::warn!(backend = %upstream.name, error = %e, "skipping backend"),
            }
        }
        for tool in &tools {
            ToolName::new(&tool.name);
        }
        self.cache.learn(&tools);
        Ok(tools)
    }

    fn healthy(&self) -> impl Iterator<Item = &Arc<Upstream>> {
        self.upstreams.iter().filter(|u| u.is_healthy())
    }

    /// The backend whose name prefixes `name` (`github_search` belongs to `github`).
    fn owner(&self, name: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.iter().find(|u| {
            name.starts_with(&format!("{}_", u.name))
                || name.starts_with(&format!("demo://{}/", u.name))
        })
    }

    fn actor(context: &Ctx) -> String {
        context
            .peer
            .peer_info()
            .map(|info| info.client_info.name.clone())
            .unwrap_or_else(|| "anonymous".to_owned())
    }

    async fn audit_tool(&self, context: &Ctx, server: &str, tool: &str, outcome: &str) {
        let event = AuditEvent::ToolInvocation {
            server_id: server.to_owned(),
            tool: tool.to_owned(),
        };
        // Off the async workers while it waits for the disk, sharing the fsync with other calls.
        let written = self
            .audit
            .record_async(&Self::actor(context), &event, outcome)
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "audit log write failed");
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
                .enable_resources()
                .enable_prompts()
                .enable_logging()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            "only1mcp-aggregator",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_tools(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools().await?))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta), fields(
        "jsonrpc.request.id" = request_id(&context),
        "mcp.session.id" = session_id(&context),
        "mcp.protocol.version" = protocol_version(&context),
        "network.transport" = "tcp",
        "client.address" = client_socket(&context).map(|a| a.ip().to_string()),
        "client.port" = client_socket(&context).map(|a| a.port()),
    ))]
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: Ctx,
    ) -> Result<CallToolResponse, ErrorData> {
        let tool = request.name.to_string();
        let upstream = self
            .owner(&tool)
            .cloned()
            .ok_or_else(|| ErrorData::invalid_params(format!("unknown tool {tool}"), None))?;
        let arguments = serde_json::to_string(&request.arguments).unwrap_or_default();
        let identity = raw_session_id(&context);
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
            self.audit_tool(&context, &upstream.name, &tool, "success_cached")
                .await;
            return Ok(hit.mark_complete());
        }
        only1mcp_obs::call::cache_hit(false);
        let result = forward_tool(&upstream, request)
            .await
            .map(MarkComplete::mark_complete);
        let outcome = match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "tool_error",
            Ok(_) => "success",
            Err(_) => "failure",
        };
        self.audit_tool(&context, &upstream.name, &tool, outcome)
            .await;
        if let Ok(response) = &result {
            if outcome == "success" {
                self.cache.put(identity, &tool, &arguments, response);
                record_optimization_result(&OptimizationResult {
                    optimization_type: OptimizationType::CacheHit,
                    tokens_saved: 0,
                    cache_type: CacheType::ToolResult,
                    cache_hit: false,
                });
            }
        }
        result.map_err(upstream_error)
    }

    async fn list_resources(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut resources = Vec::new();
        for upstream in self.healthy() {
            if let Ok(peer) = upstream.peer().await {
                resources.extend(peer.list_all_resources().await.map_err(upstream_error)?);
            }
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(
        "jsonrpc.request.id" = request_id(&context),
        "mcp.session.id" = session_id(&context),
        "network.transport" = "tcp",
        "client.address" = client_socket(&context).map(|a| a.ip().to_string()),
        "client.port" = client_socket(&context).map(|a| a.port()),
    ))]
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: Ctx,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let upstream = self
            .owner(&request.uri)
            .cloned()
            .ok_or_else(|| ErrorData::resource_not_found(request.uri.clone(), None))?;
        forward_read(&upstream, request)
            .await
            .map(MarkComplete::mark_complete)
            .map_err(upstream_error)
    }

    async fn list_prompts(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListPromptsResult, ErrorData> {
        let mut prompts = Vec::new();
        for upstream in self.healthy() {
            if let Ok(peer) = upstream.peer().await {
                prompts.extend(peer.list_all_prompts().await.map_err(upstream_error)?);
            }
        }
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta), fields(
        "jsonrpc.request.id" = request_id(&context),
        "mcp.session.id" = session_id(&context),
        "network.transport" = "tcp",
        "client.address" = client_socket(&context).map(|a| a.ip().to_string()),
        "client.port" = client_socket(&context).map(|a| a.port()),
    ))]
    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: Ctx,
    ) -> Result<GetPromptResponse, ErrorData> {
        let upstream = self.owner(&request.name).cloned().ok_or_else(|| {
            ErrorData::invalid_params(format!("unknown prompt {}", request.name), None)
        })?;
        forward_prompt(&upstream, request)
            .await
            .map(MarkComplete::mark_complete)
            .map_err(upstream_error)
    }

    async fn list_resource_templates(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let mut templates = Vec::new();
        for upstream in self.healthy() {
            if let Ok(peer) = upstream.peer().await {
                if peer
                    .peer_info()
                    .is_some_and(|i| i.capabilities.resources.is_some())
                {
                    templates.extend(
                        peer.list_all_resource_templates()
                            .await
                            .map_err(upstream_error)?,
                    );
                }
            }
        }
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(
        "jsonrpc.request.id" = request_id(&context),
        "network.transport" = "tcp",
    ))]
    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: Ctx,
    ) -> Result<CompleteResult, ErrorData> {
        let owner = match &request.r#ref {
            Reference::Prompt(prompt) => self.owner(&prompt.name),
            Reference::Resource(resource) => self.owner(&resource.uri),
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
        forward_complete(&upstream, request)
            .await
            .map(MarkComplete::mark_complete)
            .map_err(upstream_error)
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta), fields(
        "jsonrpc.request.id" = request_id(&context),
        "network.transport" = "tcp",
    ))]
    #[allow(deprecated)] // Logging is still part of protocol 2025-11-25, which clients speak.
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: Ctx,
    ) -> Result<(), ErrorData> {
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
                let sent = peer
                    .set_level(SetLevelRequestParams::new(request.level))
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(backend = %upstream.name, error = %e, "logging/setLevel not relayed");
                }
            }
        }
        Ok(())
    }
}
