//! One backend the aggregator fronts: how it is reached (a built-in demo backend, Streamable
//! HTTP, or a supervised stdio child process), its client, its health, and the names it served
//! in its last lists, which route calls to it.

use crate::cache::ToolCache;
use crate::changes::Changes;
use crate::config::{BackendConfig, Transport};
use crate::relay::{CallRelay, Numbered, UpstreamHandler, upstream_capabilities};
use crate::rounds::Parked;
use only1mcp_obs::catalogue::{
    BACKEND_HEALTH_STATUS, BACKEND_LATENCY, ProbeEndpoint, ServerId, ToolName, TransportType,
};
use only1mcp_obs::trace::{Fields, SpanFields};
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceError, ServiceExt};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

pub(crate) type Client = RunningService<RoleClient, UpstreamHandler>;

/// First wait before restarting a stdio backend that exited; doubled each time, up to
/// [`MAX_BACKOFF`], and back to this after a run longer than [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How long an idle connection to a Streamable HTTP backend is kept for the next call.
const IDLE_CONNECTION: Duration = Duration::from_secs(30);

/// Most redirects followed for one request to a backend.
const MAX_REDIRECTS: usize = 5;

/// Follows a backend's redirect only to the same scheme, host and port, and only `307` and
/// `308`, which keep the method and body (a JSON-RPC message must not turn into a `GET`, and
/// the session and authorization headers must not reach another origin).
fn same_origin(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let keeps_body = matches!(attempt.status().as_u16(), 307 | 308);
    let origin = |u: &reqwest::Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        )
    };
    let same = attempt
        .previous()
        .first()
        .is_some_and(|first| origin(first) == origin(attempt.url()));
    if keeps_body && same && attempt.previous().len() <= MAX_REDIRECTS {
        attempt.follow()
    } else {
        attempt.stop()
    }
}

/// The names a backend listed last, as it names them (without the prefix).
#[derive(Debug, Default)]
struct Routes {
    tools: HashSet<String>,
    prompts: HashSet<String>,
    resources: HashSet<String>,
    /// The fixed part of each resource template, before its first `{`.
    templates: Vec<String>,
}

/// A backend the aggregator fronts.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) name: String,
    /// Put before its tool and prompt names; empty: none.
    pub(crate) prefix: String,
    transport: Transport,
    /// `server.address` and `server.port` of its calls, from the URL.
    address: String,
    port: Option<u16>,
    client: RwLock<Option<Client>>,
    healthy: AtomicBool,
    /// The pid of a stdio backend's current process (0: none).
    pid: AtomicU32,
    /// Longest a call to this backend may take; past it the client gets a timeout error.
    pub(crate) timeout: Duration,
    /// Learns the backend's tools each time it connects.
    cache: Arc<ToolCache>,
    routes: std::sync::RwLock<Routes>,
    /// The protocol version negotiated with it, for `mcp.protocol.version` on its calls.
    protocol: std::sync::RwLock<Option<String>>,
    /// Its calls in flight, for relaying its progress and its requests to their clients.
    pub(crate) relay: Arc<CallRelay>,
    /// Where its list changes go.
    changes: Changes,
    /// Its calls waiting for a `2026-07-28` client's input (see `rounds`).
    pub(crate) parked: Arc<Parked>,
}

impl Upstream {
    pub(crate) fn new(config: &BackendConfig, cache: Arc<ToolCache>, changes: Changes) -> Self {
        let url = match &config.transport {
            Transport::Demo { url } | Transport::Http { url, .. } => reqwest::Url::parse(url).ok(),
            Transport::Stdio { .. } => None,
        };
        Upstream {
            name: config.name.clone(),
            prefix: config.prefix.clone(),
            transport: config.transport.clone(),
            address: url
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            port: url.as_ref().and_then(reqwest::Url::port_or_known_default),
            client: RwLock::new(None),
            healthy: AtomicBool::new(false),
            pid: AtomicU32::new(0),
            timeout: config.timeout,
            cache,
            routes: std::sync::RwLock::default(),
            protocol: std::sync::RwLock::default(),
            relay: Arc::default(),
            changes,
            parked: Arc::default(),
        }
    }

    /// `mcp.protocol.version` of its calls: what this hop negotiated, which may differ from
    /// what the client negotiated with the aggregator.
    pub(crate) fn protocol_version(&self) -> Option<String> {
        self.protocol
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `server.address` of its calls (none for stdio).
    pub(crate) fn address(&self) -> Option<&str> {
        (!self.address.is_empty()).then_some(self.address.as_str())
    }

    /// `server.port` of its calls.
    pub(crate) fn port(&self) -> Option<u16> {
        self.port
    }

    /// `network.transport` of its calls: `pipe` for stdio, `tcp` for HTTP.
    pub(crate) fn network_transport(&self) -> &'static str {
        match self.transport {
            Transport::Stdio { .. } => "pipe",
            _ => "tcp",
        }
    }

    fn transport_type(&self) -> TransportType {
        match self.transport {
            Transport::Stdio { .. } => TransportType::Stdio,
            _ => TransportType::StreamableHttp,
        }
    }

    /// Whether a supervisor (not the periodic probe) keeps this backend connected.
    pub(crate) fn is_supervised(&self) -> bool {
        matches!(self.transport, Transport::Stdio { .. })
    }

    /// The pid of a stdio backend's current process.
    pub(crate) fn pid(&self) -> Option<u32> {
        Some(self.pid.load(Ordering::Relaxed)).filter(|p| *p != 0)
    }

    /// `call`, or a timeout error once [`Upstream::timeout`] has passed: a hung backend never
    /// holds a client's request (or a list of every backend) forever.
    pub(crate) async fn within<T>(
        &self,
        call: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(ServiceError::Timeout {
                timeout: self.timeout,
            }))
    }

    pub(crate) fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// A name as clients see it.
    pub(crate) fn exposed(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A name as the backend knows it, when `exposed` carries this backend's prefix.
    pub(crate) fn local<'a>(&self, exposed: &'a str) -> Option<&'a str> {
        exposed.strip_prefix(self.prefix.as_str())
    }

    fn routes(&self) -> std::sync::RwLockReadGuard<'_, Routes> {
        self.routes.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn routes_mut(&self) -> std::sync::RwLockWriteGuard<'_, Routes> {
        self.routes.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether it listed the tool `exposed` names.
    pub(crate) fn lists_tool(&self, exposed: &str) -> bool {
        self.local(exposed)
            .is_some_and(|name| self.routes().tools.contains(name))
    }

    /// Whether it listed the prompt `exposed` names.
    pub(crate) fn lists_prompt(&self, exposed: &str) -> bool {
        self.local(exposed)
            .is_some_and(|name| self.routes().prompts.contains(name))
    }

    /// Whether it listed the resource, or a template it fits.
    pub(crate) fn lists_resource(&self, uri: &str) -> bool {
        let routes = self.routes();
        routes.resources.contains(uri)
            || routes
                .templates
                .iter()
                .any(|fixed| !fixed.is_empty() && uri.starts_with(fixed.as_str()))
    }

    /// Remembers the tools it listed; their names become label values and their annotations
    /// say what may be cached.
    pub(crate) fn remember_tools(&self, tools: &[Tool]) {
        let exposed: Vec<Tool> = tools
            .iter()
            .cloned()
            .map(|mut tool| {
                tool.name = self.exposed(&tool.name).into();
                ToolName::new(&tool.name);
                tool
            })
            .collect();
        self.cache.learn(&exposed);
        self.routes_mut().tools = tools.iter().map(|t| t.name.to_string()).collect();
    }

    pub(crate) fn remember_prompts(&self, prompts: &[Prompt]) {
        self.routes_mut().prompts = prompts.iter().map(|p| p.name.clone()).collect();
    }

    pub(crate) fn remember_resources(&self, resources: &[Resource]) {
        self.routes_mut().resources = resources.iter().map(|r| r.uri.clone()).collect();
    }

    pub(crate) fn remember_templates(&self, templates: &[ResourceTemplate]) {
        self.routes_mut().templates = templates
            .iter()
            .map(|t| t.uri_template.split('{').next().unwrap_or("").to_owned())
            .collect();
    }

    /// What the backend said of itself when the aggregator connected.
    pub(crate) async fn peer_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.peer().await.ok()?.peer_info()
    }

    pub(crate) async fn peer(&self) -> Result<rmcp::Peer<RoleClient>, ServiceError> {
        match self.client.read().await.as_ref() {
            Some(client) if !gone(client) => Ok(client.peer().clone()),
            _ => Err(ServiceError::TransportClosed),
        }
    }

    async fn handshake<T, E, A>(&self, transport: T) -> Result<Client, String>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let info = ClientConfig::new(
            upstream_capabilities(),
            Implementation::new("only1mcp-aggregator", env!("CARGO_PKG_VERSION")),
        );
        let handler = UpstreamHandler {
            info,
            relay: self.relay.clone(),
            changes: self.changes.clone(),
        };
        let transport = Numbered {
            inner: transport.into_transport(),
            relay: self.relay.clone(),
        };
        tokio::time::timeout(self.timeout, handler.serve(transport))
            .await
            .map_err(|_| {
                format!(
                    "{}: no answer to initialize in {:?}",
                    self.name, self.timeout
                )
            })?
            .map_err(|e| format!("{}: {e}", self.name))
    }

    /// The HTTP client of a Streamable HTTP backend. rmcp's default client keeps no idle
    /// connection, so every call would open a new TCP connection; this one keeps them alive
    /// (each call's response stream is read to its end, which frees its connection), sends
    /// without Nagle's delay, bounds the connect by the call timeout, and follows only
    /// same-origin `307`/`308` redirects, which keep the method and body.
    fn http_client(&self) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(self.timeout)
            .pool_idle_timeout(IDLE_CONNECTION)
            .redirect(reqwest::redirect::Policy::custom(same_origin))
            .build()
            .map_err(|e| format!("{}: cannot build its HTTP client: {e}", self.name))
    }

    async fn connect(&self) -> Result<(), String> {
        let client = match &self.transport {
            Transport::Demo { url } => {
                let config = StreamableHttpClientTransportConfig::with_uri(format!("{url}/mcp"));
                let transport =
                    StreamableHttpClientTransport::with_client(self.http_client()?, config);
                self.handshake(transport).await?
            }
            Transport::Http { url, headers } => {
                let config = StreamableHttpClientTransportConfig::with_uri(url.clone())
                    .custom_headers(header_map(headers));
                let transport =
                    StreamableHttpClientTransport::with_client(self.http_client()?, config);
                self.handshake(transport).await?
            }
            Transport::Stdio { .. } => {
                let child = crate::stdio::spawn(&self.name, &self.transport)
                    .map_err(|e| format!("{}: cannot start: {e}", self.name))?;
                self.pid.store(child.id().unwrap_or(0), Ordering::Relaxed);
                self.handshake(child).await?
            }
        };
        self.learn(&client).await;
        let version = client
            .peer()
            .peer_info()
            .map(|i| i.protocol_version.to_string());
        *self
            .protocol
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = version;
        *self.client.write().await = Some(client);
        Ok(())
    }

    /// What it serves now: its lists route calls, tool names become label values and tool
    /// annotations say what may be cached.
    async fn learn(&self, client: &Client) {
        let peer = client.peer();
        let capabilities = peer.peer_info().map(|i| i.capabilities.clone());
        let has = |f: fn(&ServerCapabilities) -> bool| capabilities.as_ref().is_some_and(f);
        if has(|c| c.tools.is_some()) {
            match self.within(peer.list_all_tools()).await {
                Ok(tools) => self.remember_tools(&tools),
                Err(e) => {
                    tracing::warn!(backend = %self.name, error = %e, "tools/list after connecting failed")
                }
            }
        }
        if has(|c| c.prompts.is_some())
            && let Ok(prompts) = self.within(peer.list_all_prompts()).await
        {
            self.remember_prompts(&prompts);
        }
        if has(|c| c.resources.is_some()) {
            if let Ok(resources) = self.within(peer.list_all_resources()).await {
                self.remember_resources(&resources);
            }
            if let Ok(templates) = self.within(peer.list_all_resource_templates()).await {
                self.remember_templates(&templates);
            }
        }
    }

    fn set_healthy(&self, now_healthy: bool) {
        let was_healthy = self.healthy.swap(now_healthy, Ordering::Relaxed);
        if was_healthy != now_healthy {
            tracing::warn!(backend = %self.name, healthy = now_healthy, "backend health changed");
        }
        BACKEND_HEALTH_STATUS
            .labels(ServerId::new(&self.name), self.transport_type())
            .set(if now_healthy { 1.0 } else { 0.0 });
    }

    /// One health probe; reconnects after an outage. A demo backend: a GET of its liveness
    /// endpoint; any other HTTP backend: an MCP `ping`.
    pub(crate) async fn probe(&self, http: &reqwest::Client) {
        let server = ServerId::new(&self.name);
        let start = Instant::now();
        let (endpoint, ok) = match &self.transport {
            Transport::Demo { url } => {
                let live = http
                    .get(format!("{url}/health/live"))
                    .timeout(Duration::from_secs(1))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                (ProbeEndpoint::HttpHealth, live)
            }
            _ => (ProbeEndpoint::Ping, self.ping().await),
        };
        BACKEND_LATENCY
            .labels(server, endpoint)
            .observe(start.elapsed().as_secs_f64());
        let was_healthy = self.is_healthy();
        let reconnect = matches!(self.transport, Transport::Demo { .. }) || !ok;
        let now_healthy = match (was_healthy && ok, reconnect) {
            (true, _) => true,
            (false, true) => self.connect().await.is_ok(),
            (false, false) => ok,
        };
        self.set_healthy(now_healthy);
    }

    /// An MCP `ping` on the current connection, answered within a second.
    async fn ping(&self) -> bool {
        let Ok(peer) = self.peer().await else {
            return false;
        };
        let ping = PingRequest {
            method: Default::default(),
            extensions: Default::default(),
        };
        let sent = tokio::time::timeout(Duration::from_secs(1), peer.send_request(ping.into()));
        matches!(sent.await, Ok(Ok(_)))
    }

    /// Keeps a stdio backend running: starts it, and when it exits starts it again after an
    /// exponential backoff. `first` is told after the first attempt.
    pub(crate) async fn supervise(self: Arc<Self>, first: tokio::sync::oneshot::Sender<()>) {
        let mut first = Some(first);
        let mut backoff = MIN_BACKOFF;
        loop {
            let started = Instant::now();
            let connected = self.connect().await;
            if let Some(first) = first.take() {
                let _ = first.send(());
            }
            match connected {
                Ok(()) => {
                    self.set_healthy(true);
                    self.closed().await;
                    self.set_healthy(false);
                    tracing::warn!(backend = %self.name, "backend exited; restarting");
                    if started.elapsed() > MAX_BACKOFF {
                        backoff = MIN_BACKOFF;
                    }
                }
                Err(e) => tracing::warn!(backend = %self.name, error = %e, "backend did not start"),
            }
            // Dropping the client cancels it and ends what is left of the process.
            drop(self.client.write().await.take());
            self.pid.store(0, Ordering::Relaxed);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Returns once the current connection has closed (the process exited or its pipes did).
    async fn closed(&self) {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            match self.client.read().await.as_ref() {
                Some(client) if !gone(client) => {}
                _ => return,
            }
        }
    }

    /// Closes the connection (a stdio backend's process ends), waiting at most `within`.
    pub(crate) async fn close(&self, within: Duration) {
        if let Some(mut client) = self.client.write().await.take() {
            let _ = client.close_with_timeout(within).await;
        }
    }
}

/// Whether a connection has ended: cancelled here, or its service loop finished (the process
/// exited, the stream ended).
fn gone(client: &Client) -> bool {
    client.is_closed() || client.peer().is_transport_closed()
}

fn header_map(
    headers: &std::collections::HashMap<String, String>,
) -> std::collections::HashMap<axum::http::HeaderName, axum::http::HeaderValue> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).ok()?;
            let mut value = axum::http::HeaderValue::from_str(value).ok()?;
            // Credentials stay out of debug output.
            value.set_sensitive(true);
            Some((name, value))
        })
        .collect()
}

/// The attributes of a call to the backend: its address, port, transport and protocol.
impl SpanFields for Upstream {
    fn record_fields(&self, fields: &mut Fields<'_>) {
        fields.record("server.address", &self.address());
        fields.record("server.port", &self.port());
        fields.record("network.transport", self.network_transport());
        fields.record("mcp.protocol.version", &self.protocol_version());
    }
}
