//! What a backend sends about a call, relayed to the client session that made the call: its
//! progress notifications, its log messages for a `2026-07-28` call that asked for them, and its
//! requests to the client (`sampling/createMessage`, `elicitation/create`, `roots/list`). A call
//! here is any request a backend may answer slowly and ask about: `tools/call`, `prompts/get`,
//! `resources/read` and `completion/complete`.
//!
//! A backend sees one client, the aggregator, shared by every client session. A call that a
//! client sends with a `progressToken` goes on under the token the aggregator's own MCP client
//! gives each request, and the backend's `notifications/progress` for it are sent back to the
//! session that made the call, under the token that session chose. Tokens are registered while
//! their call runs, so the table is as large as the calls in flight; progress that arrives
//! before its call is registered waits in a small bounded buffer. A backend's progress and log
//! messages are relayed in the order they came, and a call's answer after those that came
//! before it (the backend's transport numbers them, see [`Numbered`]).
//!
//! A backend's request belongs to the call on whose response stream it came (Streamable HTTP
//! marks each with the request it answers, SEP-2260); it is sent to that call's client on that
//! call's own stream, and the answer goes back to the backend. Over stdio nothing marks it, so it
//! goes to the one call in flight on that backend, and is refused when there are several (never
//! guessed). Lists are not calls: no backend asks its client anything to list. A request tied to
//! no call is refused, except `roots/list`, answered with no roots: the aggregator shares one
//! backend session among clients and gives no client's roots to a question that is not about
//! its call.
//!
//! Each relayed request and notification is a span (kind client: the aggregator sends it on to
//! its client) in the trace of the call it is about.

// Sampling and roots are deprecated by SEP-2577 but are part of protocol 2025-11-25, which
// clients and backends speak.
#![allow(deprecated)]

use crate::changes::{Changes, ListChanged, severity};
use only1mcp_obs::mcp_instrumented;
use only1mcp_obs::trace::{Fields, SpanFields};
use rmcp::model::*;
use rmcp::service::{
    InboundStreamOrigin, NotificationContext, OriginatingRequestId, RequestContext,
    RxJsonRpcMessage, TxJsonRpcMessage,
};
use rmcp::transport::Transport;
use rmcp::{ClientHandler, ErrorData, Peer, RoleClient, RoleServer, ServiceError};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// Progress notifications kept for calls not registered yet (the backend answered faster than
/// the aggregator registered its call); the oldest go first.
const EARLY: usize = 32;

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
    /// For a `2026-07-28` call, the least severe level of log messages its client asked to get
    /// with it (`io.modelcontextprotocol/logLevel` in its `_meta`); none: no log messages.
    pub(crate) log_level: Option<LoggingLevel>,
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
    /// Calls whose client asked for progress, by the token the backend knows them under (the
    /// same callers as in `calls`).
    waiting: Mutex<HashMap<ProgressToken, Arc<Caller>>>,
    early: Mutex<VecDeque<ProgressNotificationParam>>,
    /// Calls in flight, by the id the backend knows them under.
    calls: Mutex<HashMap<RequestId, Arc<Caller>>>,
    /// Calls sent to the backend and not registered yet: the backend may ask about one before
    /// the aggregator has its id (over stdio it answers that fast).
    sending: std::sync::atomic::AtomicUsize,
    /// Woken each time a call being sent is registered (or failed to send).
    settled: tokio::sync::Notify,
    /// Progress and log messages the backend's transport received, and relayed (or dropped):
    /// they are relayed in the order received, and a call's answer goes after them.
    received: AtomicU64,
    handled: AtomicU64,
    /// Woken each time a notification has been relayed.
    turned: tokio::sync::Notify,
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

/// Longest a notification waits for those received before it to be relayed, and a call's
/// answer for the notifications received before it: a client slow to take one delays the
/// others of its backend at most this long.
const TURN: std::time::Duration = std::time::Duration::from_secs(1);

/// A backend's progress or log message, numbered in the order its transport received it.
#[derive(Debug, Clone, Copy)]
struct Arrival(u64);

/// A notification's turn to be relayed; the next one's comes when this drops.
struct Turn<'a> {
    relay: &'a CallRelay,
    arrival: Option<u64>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(n) = self.arrival {
            self.relay.handled.fetch_max(n + 1, AcqRel);
            self.relay.turned.notify_waiters();
        }
    }
}

impl Registration {
    /// Ends the call's relay once its backend's notifications received before its answer are
    /// relayed (at most [`TURN`] later): rmcp hands each notification to a task of its own, and
    /// a `2026-07-28` client's stream closes with the answer.
    pub(crate) async fn finish(self) {
        if self.relays_notifications() {
            let received = self.relay.received.load(Acquire);
            self.relay.until_handled(received).await;
        }
        drop(self);
    }

    /// Whether the call's client asked for progress or log messages (most calls do not, and
    /// end at once).
    fn relays_notifications(&self) -> bool {
        let progress = self
            .relay
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&self.key);
        progress
            || self
                .relay
                .calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&self.id)
                .is_some_and(|c| c.log_level.is_some())
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
        let caller = Arc::new(caller);
        let mut waiting = self
            .relay
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if caller.progress.is_some() {
            waiting.insert(self.key.clone(), caller.clone());
        } else {
            waiting.remove(&self.key);
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
        self.relay
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
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
        let caller = Arc::new(caller);
        if caller.progress.is_some() {
            self.waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(upstream.clone(), caller.clone());
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
    async fn caller(&self, context: &RequestContext<RoleClient>) -> Result<Arc<Caller>, Untied> {
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
    fn lookup(&self, context: &RequestContext<RoleClient>) -> Result<Arc<Caller>, Untied> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        match context.extensions.get::<InboundStreamOrigin>() {
            Some(InboundStreamOrigin::OutboundRequest(id)) => {
                calls.get(id).cloned().ok_or(Untied::Ended)
            }
            Some(InboundStreamOrigin::Unassociated) => Err(Untied::NoCall),
            // A transport that marks nothing (stdio): only an unambiguous call will do.
            None => match calls.len() {
                0 => Err(Untied::NoCall),
                1 => calls.values().next().cloned().ok_or(Untied::NoCall),
                n => Err(Untied::Ambiguous(n)),
            },
        }
    }

    /// Numbers a backend's progress or log message as its transport receives it (see
    /// [`Numbered`]).
    fn arrive(&self, notification: &mut ServerNotification) {
        if matches!(
            notification,
            ServerNotification::ProgressNotification(_)
                | ServerNotification::LoggingMessageNotification(_)
        ) {
            let n = self.received.fetch_add(1, AcqRel);
            notification.extensions_mut().insert(Arrival(n));
        }
    }

    /// Waits (at most [`TURN`]) until the notifications received before this one are relayed.
    async fn turn(&self, context: &NotificationContext<RoleClient>) -> Turn<'_> {
        let arrival = context.extensions.get::<Arrival>().map(|a| a.0);
        if let Some(n) = arrival {
            self.until_handled(n).await;
        }
        Turn {
            relay: self,
            arrival,
        }
    }

    /// Waits (at most [`TURN`]) until the first `n` notifications received are relayed.
    async fn until_handled(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + TURN;
        loop {
            let turned = self.turned.notified();
            tokio::pin!(turned);
            // Relayed from now on, the next relay wakes this wait.
            turned.as_mut().enable();
            if self.handled.load(Acquire) >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, turned).await.is_err() {
                return;
            }
        }
    }

    /// Counts a call being sent to the backend until the guard drops (once it is registered).
    pub(crate) fn sending(self: &Arc<Self>) -> Sending {
        self.sending.fetch_add(1, AcqRel);
        Sending(self.clone())
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
        let Some((waiting, token)) = waiting.and_then(|c| {
            let token = c.progress.clone()?;
            Some((c, token))
        }) else {
            let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
            if early.len() >= EARLY {
                early.pop_front();
            }
            early.push_back(params);
            return;
        };
        params.progress_token = token;
        if let Err(e) = relay_progress(&waiting, params).await {
            tracing::debug!(error = %e, "a progress notification could not reach its client");
        }
    }

    /// Sends a backend's log message to each `2026-07-28` call in flight on it whose client
    /// asked for log messages at its level or below. The backend's session is the aggregator's,
    /// shared by every client, so a message goes to each such call, as a `2025-11-25` session
    /// that set a level gets it (see `changes::Logs`).
    async fn relay_log(&self, params: &LoggingMessageNotificationParam) {
        let wanting: Vec<Arc<Caller>> = self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|c| {
                c.log_level
                    .is_some_and(|l| severity(l) <= severity(params.level))
            })
            .cloned()
            .collect();
        for caller in wanting {
            if let Err(e) = relay_log_message(&caller, params.clone()).await {
                tracing::debug!(error = %e, "a backend's log message could not reach a call");
            }
        }
    }

    /// The trace context of the one call in flight on the backend: what a notification that
    /// names no call (a list change, a log message) is most likely about.
    pub(crate) fn sole_trace(&self) -> Option<RequestMetaObject> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        match calls.len() {
            1 => calls.values().next()?.trace.clone(),
            _ => None,
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

/// Why a backend's request goes to no client.
#[derive(Debug)]
enum Untied {
    /// It came on no call's stream.
    NoCall,
    /// The call it came with has ended.
    Ended,
    /// It is not marked, and several calls are in flight to that backend.
    Ambiguous(usize),
}

impl Untied {
    fn error(&self, method: &str) -> ErrorData {
        let why = match self {
            Untied::NoCall => "it is not about a client's call".to_owned(),
            Untied::Ended => "the call it is about has ended".to_owned(),
            Untied::Ambiguous(n) => {
                format!("it names no call and {n} calls are in flight to this backend")
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

/// The attributes of a request relayed to the caller's client: the protocol it speaks.
impl SpanFields for Caller {
    fn record_fields(&self, fields: &mut Fields<'_>) {
        let protocol = self.protocol.as_ref().map(ToString::to_string);
        fields.record("mcp.protocol.version", &protocol);
    }
}

/// Asks the caller's client `request` and waits for its answer at most the backend's call
/// timeout: on the stream of the call it is about, or, for a `2026-07-28` client, as an
/// `input_required` round of that call.
async fn ask(caller: &Caller, request: InputRequest) -> Result<serde_json::Value, ServiceError> {
    let timeout = caller.timeout;
    let answer = async {
        if caller.asks.is_none() && is_stateless(caller.protocol.as_ref()) {
            // A `2026-07-28` client takes no requests, and this method has no rounds.
            return Err(ServiceError::McpError(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                "the client of this request takes no requests (protocol 2026-07-28) and the \
                 request cannot ask it in input_required rounds",
                None,
            )));
        }
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

/// Whether a client on `protocol` takes no requests from a server (`2026-07-28` and later).
pub(crate) fn is_stateless(protocol: Option<&ProtocolVersion>) -> bool {
    protocol.is_some_and(|v| *v >= ProtocolVersion::V_2026_07_28)
}

#[mcp_instrumented(method = "notifications/progress", kind = client, parent = &caller.trace)]
async fn relay_progress(
    caller: &Caller,
    params: ProgressNotificationParam,
) -> Result<(), ServiceError> {
    caller.client.notify_progress(params).await
}

#[mcp_instrumented(method = "notifications/message", kind = client, parent = &caller.trace, fields(..caller))]
async fn relay_log_message(
    caller: &Caller,
    params: LoggingMessageNotificationParam,
) -> Result<(), ServiceError> {
    caller.client.notify_logging_message(params).await
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

#[mcp_instrumented(method = "sampling/createMessage", kind = client, parent = &caller.trace, fields(..caller))]
async fn relay_sampling(
    caller: &Caller,
    params: CreateMessageRequestParams,
) -> Result<CreateMessageResult, ServiceError> {
    let request = InputRequest::CreateMessage(CreateMessageRequest::new(params));
    answer_as("sampling/createMessage", ask(caller, request).await?)
}

#[mcp_instrumented(method = "elicitation/create", kind = client, parent = &caller.trace, fields(..caller))]
async fn relay_elicitation(
    caller: &Caller,
    params: ElicitRequestParams,
) -> Result<ElicitResult, ServiceError> {
    let request = InputRequest::Elicitation(ElicitRequest::new(params));
    answer_as("elicitation/create", ask(caller, request).await?)
}

#[mcp_instrumented(method = "roots/list", kind = client, parent = &caller.trace, fields(..caller))]
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
    ) -> Result<Arc<Caller>, ErrorData> {
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
        context: NotificationContext<RoleClient>,
    ) {
        let _turn = self.relay.turn(&context).await;
        self.relay.relay(params).await;
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        context: NotificationContext<RoleClient>,
    ) {
        let _turn = self.relay.turn(&context).await;
        self.relay.relay_log(&params).await;
        let trace = self.relay.sole_trace();
        self.changes.logs.relay(params, &trace).await;
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes
            .publish(ListChanged::Tools, &self.relay.sole_trace());
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes
            .publish(ListChanged::Prompts, &self.relay.sole_trace());
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes
            .publish(ListChanged::Resources, &self.relay.sole_trace());
    }
}

/// A backend's transport, numbering its progress and log messages as they arrive, in the order
/// they came on the wire (before a call's answer that came after them).
pub(crate) struct Numbered<T> {
    pub(crate) inner: T,
    pub(crate) relay: Arc<CallRelay>,
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for Numbered<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let mut message = self.inner.receive().await?;
        if let JsonRpcMessage::Notification(n) = &mut message {
            self.relay.arrive(&mut n.notification);
        }
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress() -> ServerNotification {
        ServerNotification::ProgressNotification(ProgressNotification::new(
            ProgressNotificationParam::new(ProgressToken(NumberOrString::Number(1)), 1.0),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn a_notification_is_relayed_after_those_received_before_it() {
        let relay = CallRelay::default();
        let (mut first, mut second) = (progress(), progress());
        relay.arrive(&mut first);
        relay.arrive(&mut second);
        let number = |n: &ServerNotification| n.extensions().get::<Arrival>().map(|a| a.0);
        assert_eq!((number(&first), number(&second)), (Some(0), Some(1)));
        // The second waits for the first...
        let waited = tokio::time::timeout(TURN / 2, relay.until_handled(1)).await;
        assert!(
            waited.is_err(),
            "the second went before the first was relayed"
        );
        // ...which, relayed, lets it go.
        drop(Turn {
            relay: &relay,
            arrival: Some(0),
        });
        let waited = tokio::time::timeout(TURN / 2, relay.until_handled(1)).await;
        assert!(waited.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_notification_never_waits_longer_than_a_turn() {
        let relay = CallRelay::default();
        for _ in 0..3 {
            relay.arrive(&mut progress());
        }
        let start = tokio::time::Instant::now();
        relay.until_handled(3).await;
        assert_eq!(start.elapsed(), TURN);
    }

    #[test]
    fn only_progress_and_log_messages_are_numbered() {
        let relay = CallRelay::default();
        let mut changed = ServerNotification::ToolListChangedNotification(Default::default());
        relay.arrive(&mut changed);
        assert!(changed.extensions().get::<Arrival>().is_none());
        assert_eq!(relay.received.load(Acquire), 0);
    }
}
