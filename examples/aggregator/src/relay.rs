//! What a backend sends about a call, relayed to the client session that made the call: its
//! progress notifications, and its requests to the client (`sampling/createMessage`,
//! `elicitation/create`, `roots/list`).
//!
//! A backend sees one client, the aggregator, shared by every client session. A call that a
//! client sends with a `progressToken` goes on under the token the aggregator's own MCP client
//! gives each request, and the backend's `notifications/progress` for it are sent back to the
//! session that made the call, under the token that session chose. Tokens are registered while
//! their call runs and a quarter second after, so the table is as large as the calls in flight
//! and just finished; progress that arrives before its call is registered waits in a small
//! bounded buffer.
//!
//! A backend's request belongs to the call on whose response stream it came (Streamable HTTP
//! marks each with the request it answers, SEP-2260); it is sent to that call's client on that
//! call's own stream, and the answer goes back to the backend. Over stdio nothing marks it, so it
//! goes to the one call in flight on that backend, and is refused when there are several, or
//! when any other request is in flight to it (never guessed). A request tied to no call is
//! refused, except `roots/list`, answered with no roots: the aggregator shares one backend
//! session among clients and gives no client's roots to a question that is not about its call.
//! Each relayed request is a span in its call's trace.

// Sampling and roots are deprecated by SEP-2577 but are part of protocol 2025-11-25, which
// clients and backends speak.
#![allow(deprecated)]

use crate::changes::{Changes, ListChanged};
use only1mcp_obs::mcp_instrumented;
use rmcp::model::*;
use rmcp::service::{
    InboundStreamOrigin, NotificationContext, OriginatingRequestId, RequestContext,
};
use rmcp::{ClientHandler, ErrorData, Peer, RoleClient, RoleServer, ServiceError};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// Progress notifications kept for calls not registered yet (the backend answered faster than
/// the aggregator registered its call); the oldest go first.
const EARLY: usize = 32;

/// Where the progress of a call goes: the client's session and the token it chose.
type Waiting = (Peer<RoleServer>, ProgressToken);

/// A call in flight on a backend, as its client made it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The client's session.
    pub(crate) client: Peer<RoleServer>,
    /// The client's id of the call: requests about it go on that request's stream.
    pub(crate) request: RequestId,
    /// The token under which the client asked for progress, if it did.
    pub(crate) progress: Option<ProgressToken>,
    /// The call's trace context (`traceparent`), the parent of the spans of relayed requests.
    pub(crate) trace: Option<RequestMetaObject>,
    /// Longest a relayed request may wait for the client's answer: the backend's call timeout.
    pub(crate) timeout: std::time::Duration,
    /// The protocol version the client's call named.
    pub(crate) protocol: Option<ProtocolVersion>,
    /// What the client declared it can be asked.
    pub(crate) capabilities: Option<ClientCapabilities>,
    /// For a `2026-07-28` client, which takes no requests from a server: where the backend's
    /// requests go to be asked as `input_required` rounds of the call (see `rounds`).
    pub(crate) asks: Option<mpsc::Sender<Ask>>,
}

/// A backend's request for a `2026-07-28` client, and where its answer goes.
#[derive(Debug)]
pub(crate) struct Ask {
    pub(crate) request: InputRequest,
    pub(crate) reply: oneshot::Sender<serde_json::Value>,
}

/// The calls in flight on one backend, for relaying what the backend sends about them.
#[derive(Default)]
pub(crate) struct CallRelay {
    waiting: Mutex<HashMap<ProgressToken, Waiting>>,
    early: Mutex<VecDeque<ProgressNotificationParam>>,
    /// Calls in flight, by the id the backend knows them under.
    calls: Mutex<HashMap<RequestId, Caller>>,
    /// Other requests in flight to the backend (`resources/read`, `prompts/get`, ...), which a
    /// request over stdio could be about as well.
    others: std::sync::atomic::AtomicUsize,
    /// Calls sent to the backend and not registered yet: the backend may ask about one before
    /// the aggregator has its id (over stdio it answers that fast).
    sending: std::sync::atomic::AtomicUsize,
    /// Woken each time a call being sent is registered (or failed to send).
    settled: tokio::sync::Notify,
}

impl std::fmt::Debug for CallRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("CallRelay")
            .field("waiting", &waiting)
            .finish()
    }
}

/// A call's place in the relay; dropping it (the call ended) removes it.
#[derive(Debug)]
pub(crate) struct Registration {
    relay: Arc<CallRelay>,
    key: ProgressToken,
    id: RequestId,
}

/// How long a finished call's progress is still relayed. rmcp hands each notification to its
/// own task, so the last progress of a call can be handled just after the call's answer.
const GRACE: std::time::Duration = std::time::Duration::from_millis(250);

impl Registration {
    /// Ends the call's relay: progress handled by now has been sent; what comes in the next
    /// [`GRACE`] still goes to the client, then the entry goes.
    pub(crate) async fn finish(self) {
        if self.relays_progress() {
            // Notifications that arrived before the answer have tasks ready to run: let them.
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
        }
        drop(self);
    }

    /// Whether the call's client asked for progress (most calls do not, and end at once).
    fn relays_progress(&self) -> bool {
        self.relay
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&self.key)
    }

    /// The call goes on for a new round of the client's (see `rounds`): what the backend sends
    /// from now on goes to `caller`, the client's new request, on the same way to ask it.
    pub(crate) fn rebind(&self, mut caller: Caller) {
        let mut calls = self
            .relay
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(previous) = calls.get_mut(&self.id) else {
            return;
        };
        caller.asks = previous.asks.clone();
        let mut waiting = self
            .relay
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match caller.progress.clone() {
            Some(token) => {
                waiting.insert(self.key.clone(), (caller.client.clone(), token));
            }
            None => {
                waiting.remove(&self.key);
            }
        }
        *previous = caller;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // A request about a call that has ended is refused at once.
        self.relay
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        if !self.relays_progress() {
            return;
        }
        let relay = self.relay.clone();
        let key = self.key.clone();
        let remove = move || {
            relay
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    // Not a wait for a result: the entry outlives its call by GRACE on purpose,
                    // on a task of its own, and nothing waits for this task.
                    tokio::time::sleep(GRACE).await;
                    remove();
                });
            }
            Err(_) => remove(),
        }
    }
}

impl CallRelay {
    /// Registers a call the backend knows under `id` and progress token `upstream`, made by
    /// `caller`; progress that came before is sent on at once.
    pub(crate) async fn register(
        self: &Arc<Self>,
        id: RequestId,
        upstream: ProgressToken,
        caller: Caller,
    ) -> Registration {
        if let Some(token) = caller.progress.clone() {
            self.waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(upstream.clone(), (caller.client.clone(), token));
        }
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), caller);
        let early: Vec<ProgressNotificationParam> = {
            let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
            let mut mine = Vec::new();
            early.retain(|p| {
                let matches = p.progress_token == upstream;
                if matches {
                    mine.push(p.clone());
                }
                !matches
            });
            mine
        };
        for params in early {
            self.relay(params).await;
        }
        Registration {
            relay: self.clone(),
            key: upstream,
            id,
        }
    }

    /// The call a backend's request is about, or why there is none to relay it to. Decided once
    /// the calls being sent to the backend are registered (at most [`SETTLE`] later); a request
    /// marked with its call is relayed as soon as that call is registered.
    async fn caller(&self, context: &RequestContext<RoleClient>) -> Result<Caller, Untied> {
        let marked = matches!(
            context.extensions.get::<InboundStreamOrigin>(),
            Some(InboundStreamOrigin::OutboundRequest(_))
        );
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            // Registered from now on, the next registration wakes this wait.
            settled.as_mut().enable();
            let quiet = self.sending.load(Acquire) == 0;
            let found = self.lookup(context);
            if quiet || (marked && found.is_ok()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return found;
            }
        }
    }

    /// [`Self::caller`] with the calls registered now.
    fn lookup(&self, context: &RequestContext<RoleClient>) -> Result<Caller, Untied> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        match context.extensions.get::<InboundStreamOrigin>() {
            Some(InboundStreamOrigin::OutboundRequest(id)) => {
                calls.get(id).cloned().ok_or(Untied::Ended)
            }
            Some(InboundStreamOrigin::Unassociated) => Err(Untied::NoCall),
            // A transport that marks nothing (stdio): only an unambiguous call will do.
            None => match (calls.len(), self.others.load(Relaxed)) {
                (0, _) => Err(Untied::NoCall),
                (1, 0) => Ok(calls.values().next().cloned().ok_or(Untied::NoCall)?),
                (n, others) => Err(Untied::Ambiguous(n + others)),
            },
        }
    }

    /// Counts a call being sent to the backend until the guard drops (once it is registered).
    pub(crate) fn sending(self: &Arc<Self>) -> Sending {
        self.sending.fetch_add(1, AcqRel);
        Sending(self.clone())
    }

    /// Counts a request other than `tools/call` in flight to the backend until the guard drops.
    pub(crate) fn other_request(self: &Arc<Self>) -> OtherRequest {
        self.others.fetch_add(1, Relaxed);
        OtherRequest(self.clone())
    }

    /// Sends a backend's progress notification to the session whose call it is about, under
    /// that session's token. One about no registered call is kept a little while, in case its
    /// call is being registered.
    async fn relay(&self, mut params: ProgressNotificationParam) {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&params.progress_token)
            .cloned();
        let Some((client, token)) = waiting else {
            let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
            if early.len() >= EARLY {
                early.pop_front();
            }
            early.push_back(params);
            return;
        };
        params.progress_token = token;
        if let Err(e) = client.notify_progress(params).await {
            tracing::debug!(error = %e, "a progress notification could not reach its client");
        }
    }
}

/// How long a backend's request waits for the calls being sent to its backend to be registered.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// A call being sent (see [`CallRelay::sending`]).
pub(crate) struct Sending(Arc<CallRelay>);

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.sending.fetch_sub(1, AcqRel);
        self.0.settled.notify_waiters();
    }
}

/// A request other than `tools/call` in flight (see [`CallRelay::other_request`]).
pub(crate) struct OtherRequest(Arc<CallRelay>);

impl Drop for OtherRequest {
    fn drop(&mut self) {
        self.0.others.fetch_sub(1, Relaxed);
    }
}

/// Why a backend's request goes to no client.
#[derive(Debug)]
enum Untied {
    /// It came on no call's stream.
    NoCall,
    /// The call it came with has ended.
    Ended,
    /// It is not marked, and several requests are in flight to that backend.
    Ambiguous(usize),
}

impl Untied {
    fn error(&self, method: &str) -> ErrorData {
        let why = match self {
            Untied::NoCall => "it is not about a client's call".to_owned(),
            Untied::Ended => "the call it is about has ended".to_owned(),
            Untied::Ambiguous(n) => {
                format!("it names no call and {n} requests are in flight to this backend")
            }
        };
        ErrorData::invalid_request(format!("the aggregator relays no {method}: {why}"), None)
    }
}

/// The error a backend gets when its request could not be relayed or the client refused it.
fn relayed_error(error: ServiceError) -> ErrorData {
    match error {
        ServiceError::McpError(error) => error,
        other => ErrorData::internal_error(format!("relaying to the client failed: {other}"), None),
    }
}

/// The client's protocol version, for `mcp.protocol.version` on a relayed request's span.
fn client_protocol(caller: &Caller) -> Option<String> {
    caller.protocol.as_ref().map(ToString::to_string)
}

/// Asks the caller's client `request` and waits for its answer at most the backend's call
/// timeout: on the stream of the call it is about, or, for a `2026-07-28` client, as an
/// `input_required` round of that call.
async fn ask(caller: &Caller, request: InputRequest) -> Result<serde_json::Value, ServiceError> {
    let timeout = caller.timeout;
    let answer = async {
        if let Some(asks) = &caller.asks {
            let (reply, answer) = oneshot::channel();
            asks.send(Ask { request, reply })
                .await
                .map_err(|_| ServiceError::TransportClosed)?;
            return answer.await.map_err(|_| {
                ServiceError::McpError(ErrorData::internal_error(
                    "the client did not come back with an answer before its call ended",
                    None,
                ))
            });
        }
        let mut request = match request {
            InputRequest::CreateMessage(r) => ServerRequest::CreateMessageRequest(r),
            InputRequest::Elicitation(r) => ServerRequest::ElicitRequest(r),
            InputRequest::ListRoots(r) => ServerRequest::ListRootsRequest(r),
            other => {
                return Err(ServiceError::McpError(ErrorData::internal_error(
                    format!("no way to ask a client {other:?}"),
                    None,
                )));
            }
        };
        request
            .extensions_mut()
            .insert(OriginatingRequestId(caller.request.clone()));
        let result = caller.client.send_request(request).await?;
        serde_json::to_value(result)
            .map_err(|e| ServiceError::McpError(ErrorData::internal_error(e.to_string(), None)))
    };
    tokio::time::timeout(timeout, answer)
        .await
        .map_err(|_| ServiceError::Timeout { timeout })?
}

/// The client's answer as the result type the backend expects.
fn answer_as<T: serde::de::DeserializeOwned>(
    method: &str,
    answer: serde_json::Value,
) -> Result<T, ServiceError> {
    serde_json::from_value(answer).map_err(|e| {
        ServiceError::McpError(ErrorData::invalid_params(
            format!("the client's answer to {method} is not valid: {e}"),
            None,
        ))
    })
}

#[mcp_instrumented(method = "sampling/createMessage", kind = client, parent = &caller.trace, fields(
    "mcp.protocol.version" = client_protocol(caller),
))]
async fn relay_sampling(
    caller: &Caller,
    params: CreateMessageRequestParams,
) -> Result<CreateMessageResult, ServiceError> {
    let request = InputRequest::CreateMessage(CreateMessageRequest::new(params));
    answer_as("sampling/createMessage", ask(caller, request).await?)
}

#[mcp_instrumented(method = "elicitation/create", kind = client, parent = &caller.trace, fields(
    "mcp.protocol.version" = client_protocol(caller),
))]
async fn relay_elicitation(
    caller: &Caller,
    params: ElicitRequestParams,
) -> Result<ElicitResult, ServiceError> {
    let request = InputRequest::Elicitation(ElicitRequest::new(params));
    answer_as("elicitation/create", ask(caller, request).await?)
}

#[mcp_instrumented(method = "roots/list", kind = client, parent = &caller.trace, fields(
    "mcp.protocol.version" = client_protocol(caller),
))]
async fn relay_roots(caller: &Caller) -> Result<ListRootsResult, ServiceError> {
    let request = InputRequest::ListRoots(ListRootsRequest::default());
    answer_as("roots/list", ask(caller, request).await?)
}

/// The aggregator as a client of one backend: rmcp's client plus the relay of its calls.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamHandler {
    pub(crate) info: ClientConfig,
    pub(crate) relay: Arc<CallRelay>,
    pub(crate) changes: Changes,
}

/// What the aggregator tells a backend it can do: the requests it relays to its clients.
pub(crate) fn upstream_capabilities() -> ClientCapabilities {
    ClientCapabilities::builder()
        .enable_roots()
        .enable_sampling()
        .enable_elicitation()
        .build()
}

impl UpstreamHandler {
    /// The caller a backend's `method` request goes to: the client of the call it is about, which
    /// declared the capability (`has`); the error the backend gets otherwise.
    async fn caller_for(
        &self,
        context: &RequestContext<RoleClient>,
        method: &str,
        has: impl FnOnce(&ClientCapabilities) -> bool,
    ) -> Result<Caller, ErrorData> {
        let caller = self
            .relay
            .caller(context)
            .await
            .map_err(|u| u.error(method))?;
        if caller.capabilities.as_ref().is_some_and(has) {
            Ok(caller)
        } else {
            Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("the client of this call does not support {method}"),
                None,
            ))
        }
    }
}

impl ClientHandler for UpstreamHandler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let caller = self
            .caller_for(&context, "sampling/createMessage", |c| c.sampling.is_some())
            .await?;
        relay_sampling(&caller, params).await.map_err(relayed_error)
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let caller = self
            .caller_for(&context, "elicitation/create", |c| c.elicitation.is_some())
            .await?;
        relay_elicitation(&caller, params)
            .await
            .map_err(relayed_error)
    }

    async fn list_roots(
        &self,
        context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let Ok(caller) = self
            .caller_for(&context, "roots/list", |c| c.roots.is_some())
            .await
        else {
            // About no one client's call, or its client has none: no client's roots.
            return Ok(ListRootsResult::default());
        };
        relay_roots(&caller).await.map_err(relayed_error)
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.relay.relay(params).await;
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.changes.logs.relay(params).await;
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes.publish(ListChanged::Tools);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes.publish(ListChanged::Prompts);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes.publish(ListChanged::Resources);
    }
}
