//! `input_required` rounds: a backend's requests to a `2026-07-28` client during a `tools/call`,
//! `prompts/get` or `resources/read`.
//!
//! That protocol generation has no requests from server to client. A server that needs the
//! client's input answers the request with `input_required` (its requests and a `requestState`),
//! and the client calls again with its answers (`inputResponses`) and that state (SEP-2322). A
//! backend on `2025-11-25` sends its request in the middle of the call instead, and waits.
//!
//! The aggregator translates: it keeps the backend's call going, answers the client's call
//! with `input_required`, and parks the call under a fresh unguessable `requestState`. The
//! client's next call with that state (and the same method and name) gives the backend its
//! answer and goes on waiting for the backend, which may ask again (another round) or answer (the result). A
//! parked call waits at most the backend's call timeout for its client to come back, then is
//! cancelled at the backend; at most [`MAX_PARKED`] wait at once per backend, beyond which the
//! backend's request is refused.

use crate::forwarded::{Forwarded, Subject};
use crate::relay::{Ask, Registration};
use rmcp::model::*;
use rmcp::service::RequestHandle;
use rmcp::{ErrorData, Peer, RoleClient, ServiceError};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Calls parked at once on one backend, waiting for their clients' input.
pub(crate) const MAX_PARKED: usize = 1024;

/// The key of the one input request of a round, in `inputRequests` and `inputResponses`.
const KEY: &str = "input";

/// What starts each `requestState` the aggregator gives; any other is a backend's own, passed on.
const STATE_PREFIX: &str = "only1mcp-round:";

/// The aggregator's part of `state`, when the aggregator gave it.
pub(crate) fn ours(state: &str) -> Option<&str> {
    state.strip_prefix(STATE_PREFIX)
}

/// A request on its way at a backend: what is awaited, and what lives as long as it does.
pub(crate) struct InFlight {
    response: Pin<Box<dyn Future<Output = Result<ServerResult, ServiceError>> + Send>>,
    asks: mpsc::Receiver<Ask>,
    registration: Registration,
    abandoned: CancelOnDrop,
}

/// What happened first while a call was in flight.
enum Step {
    Answered(Result<ServerResult, ServiceError>),
    Asked(Ask),
}

impl InFlight {
    /// The request sent as `handle` on `peer`, registered in the backend's relay, whose requests
    /// for a `2026-07-28` client come on `asks`.
    pub(crate) fn new(
        handle: RequestHandle<RoleClient>,
        peer: Peer<RoleClient>,
        registration: Registration,
        asks: mpsc::Receiver<Ask>,
    ) -> Self {
        let abandoned = CancelOnDrop {
            peer,
            id: Some(handle.id.clone()),
        };
        InFlight {
            response: Box::pin(handle.await_response()),
            asks,
            registration,
            abandoned,
        }
    }

    /// The call goes on for the client's new request `caller`.
    pub(crate) fn rebind(&self, caller: crate::relay::Caller) {
        self.registration.rebind(caller);
    }

    /// Waits for the backend: its answer ends the call; a request for the client parks the call
    /// in `parked` under `subject` (see [`Forwarded::subject`]) and answers this round with
    /// `input_required`.
    pub(crate) async fn run<R: Forwarded>(
        mut self,
        parked: &Arc<Parked>,
        subject: Subject,
        timeout: Duration,
    ) -> Result<R::Response, ServiceError> {
        let step = tokio::select! {
            answer = &mut self.response => Step::Answered(answer),
            Some(ask) = self.asks.recv() => Step::Asked(ask),
        };
        match step {
            Step::Answered(answer) => {
                self.abandoned.id = None;
                self.registration.finish().await;
                R::answered(answer?)
            }
            Step::Asked(Ask { request, reply }) => {
                let state = parked.park(subject, reply, self, timeout)?;
                let requests = BTreeMap::from([(KEY.to_owned(), request)]);
                let round = InputRequiredResult::new(Some(requests), Some(state));
                // Only methods with rounds hand out where to ask (see `call_relayed`).
                R::input_required(round).ok_or(ServiceError::UnexpectedResponse)
            }
        }
    }
}

/// A call waiting for its client to come back with the answer to its backend's request.
struct ParkedCall<F> {
    /// What the request was about (see [`Forwarded::subject`]).
    subject: Subject,
    reply: oneshot::Sender<serde_json::Value>,
    flight: F,
}

/// The calls of one backend parked between rounds, by `requestState`; `F` is what keeps a call
/// going ([`InFlight`]; anything in unit tests).
pub(crate) struct Parked<F = InFlight> {
    calls: Mutex<HashMap<String, ParkedCall<F>>>,
}

impl<F> Default for Parked<F> {
    fn default() -> Self {
        Parked {
            calls: Mutex::default(),
        }
    }
}

impl<F> std::fmt::Debug for Parked<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parked = self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Parked").field("calls", &parked).finish()
    }
}

impl<F: Send + 'static> Parked<F> {
    /// Parks `flight` (a request about `subject`) for at most `timeout`; the `requestState` that
    /// resumes it.
    fn park(
        self: &Arc<Self>,
        subject: Subject,
        reply: oneshot::Sender<serde_json::Value>,
        flight: F,
        timeout: Duration,
    ) -> Result<String, ServiceError> {
        let key = format!("{:032x}", rand::random::<u128>());
        {
            let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            if calls.len() >= MAX_PARKED {
                // Dropped: the backend's request gets an error and its call is cancelled.
                return Err(ServiceError::McpError(ErrorData::internal_error(
                    format!("{MAX_PARKED} calls already wait for their clients' input"),
                    None,
                )));
            }
            let call = ParkedCall {
                subject,
                reply,
                flight,
            };
            calls.insert(key.clone(), call);
        }
        let parked = self.clone();
        let expired = key.clone();
        tokio::spawn(async move {
            // The client's deadline to come back, not a wait for a result: past it the parked
            // call is dropped, which cancels it at the backend.
            tokio::time::sleep(timeout).await;
            let call = parked
                .calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&expired);
            drop(call);
        });
        Ok(format!("{STATE_PREFIX}{key}"))
    }

    /// The call parked under `state` (the part after the prefix), given its backend's answer
    /// from `responses`; the retry must be about the same `subject`. A state that is unknown,
    /// expired or for another request, or a retry without the answer, is refused, and a parked
    /// call stays parked.
    pub(crate) fn resume(
        &self,
        state: &str,
        subject: Subject,
        responses: Option<&InputResponses>,
    ) -> Result<F, ErrorData> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let refuse = |why: &str| Err(ErrorData::invalid_params(why.to_owned(), None));
        match calls.get(state) {
            None => return refuse("requestState is unknown or expired"),
            Some(call) if call.subject != subject => {
                return refuse("requestState belongs to another request");
            }
            Some(_) => {}
        }
        let Some(answer) = responses.and_then(|r| r.get(KEY)).cloned() else {
            return refuse("inputResponses has no answer to the `input` request");
        };
        let Some(call) = calls.remove(state) else {
            return refuse("requestState is unknown or expired");
        };
        // The backend may have given up meanwhile; its call's answer then says so.
        let _ = call.reply.send(answer);
        Ok(call.flight)
    }
}

/// Tells the backend a request is abandoned (its client went away or it timed out) when dropped
/// with the request still set.
pub(crate) struct CancelOnDrop {
    pub(crate) peer: Peer<RoleClient>,
    pub(crate) id: Option<RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let peer = self.peer.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let cancelled = CancelledNotificationParam::new(
                    Some(id),
                    Some("abandoned by the aggregator's client".to_owned()),
                );
                let _ = peer.notify_cancelled(cancelled).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subject of a `tools/call` of `tool`.
    fn call_of(tool: &str) -> Subject {
        Subject::of("tools/call", tool)
    }

    fn answer(value: serde_json::Value) -> InputResponses {
        InputResponses::from([(KEY.to_owned(), value)])
    }

    /// Parks the flight `n` for `tool`; its state (the part after the prefix) and where the
    /// backend's answer arrives.
    fn park(
        parked: &Arc<Parked<u32>>,
        tool: &str,
        n: u32,
    ) -> (String, oneshot::Receiver<serde_json::Value>) {
        let (reply, answer) = oneshot::channel();
        let state = parked
            .park(call_of(tool), reply, n, Duration::from_secs(60))
            .expect("parked");
        let ours = ours(&state).expect("the aggregator's own state").to_owned();
        (ours, answer)
    }

    #[tokio::test]
    async fn the_clients_answer_reaches_the_backend_and_the_call_goes_on() {
        let parked = Arc::new(Parked::default());
        let (state, answer) = park(&parked, "sample", 7);
        let flight = parked
            .resume(&state, call_of("sample"), Some(&answer_of("yes")))
            .expect("resumed");
        assert_eq!(flight, 7);
        assert_eq!(answer.await.ok(), Some(serde_json::json!("yes")));
        // A state resumes once.
        let again = parked.resume(&state, call_of("sample"), Some(&answer_of("yes")));
        assert!(again.is_err());
    }

    fn answer_of(text: &str) -> InputResponses {
        answer(serde_json::json!(text))
    }

    #[tokio::test]
    async fn a_forged_state_another_tool_or_no_answer_is_refused_and_the_call_stays_parked() {
        let parked = Arc::new(Parked::default());
        let (state, _answer) = park(&parked, "sample", 1);
        let refused = |result: Result<u32, ErrorData>| result.expect_err("refused").message;
        let forged = refused(parked.resume("0123", call_of("sample"), Some(&answer_of("x"))));
        assert!(forged.contains("unknown or expired"), "{forged}");
        let other = refused(parked.resume(&state, call_of("other"), Some(&answer_of("x"))));
        assert!(other.contains("another request"), "{other}");
        let none = refused(parked.resume(&state, call_of("sample"), None));
        assert!(none.contains("no answer"), "{none}");
        assert_eq!(
            parked
                .resume(&state, call_of("sample"), Some(&answer_of("x")))
                .ok(),
            Some(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_whose_client_never_comes_back_is_dropped_after_the_timeout() {
        let parked = Arc::new(Parked::default());
        let (reply, answer) = oneshot::channel();
        let state = parked
            .park(call_of("sample"), reply, 1u32, Duration::from_secs(5))
            .expect("parked");
        // The paused clock jumps to the expiry once every task waits.
        assert!(
            answer.await.is_err(),
            "the backend's request ends unanswered"
        );
        let resumed = parked.resume(ours(&state).unwrap_or_default(), call_of("sample"), None);
        assert!(resumed.is_err());
    }

    #[tokio::test]
    async fn no_more_than_max_parked_calls_wait() {
        let parked = Arc::new(Parked::default());
        for n in 0..MAX_PARKED {
            let (reply, _) = oneshot::channel();
            let parked_one = parked.park(call_of("sample"), reply, n, Duration::from_secs(60));
            assert!(parked_one.is_ok());
        }
        let (reply, _) = oneshot::channel();
        let refused = parked.park(
            call_of("sample"),
            reply,
            MAX_PARKED,
            Duration::from_secs(60),
        );
        assert!(refused.is_err());
    }

    #[test]
    fn a_subject_is_its_method_and_name_and_nothing_else() {
        assert_eq!(call_of("sample"), call_of("sample"));
        assert_ne!(call_of("sample"), call_of("samples"));
        assert_ne!(call_of("sample"), Subject::of("prompts/get", "sample"));
        // The method and the name do not run into each other.
        assert_ne!(Subject::of("a", "bc"), Subject::of("ab", "c"));
    }

    #[test]
    fn only_the_aggregators_own_states_are_taken() {
        assert_eq!(ours("only1mcp-round:abc"), Some("abc"));
        assert_eq!(ours("a-backends-own-state"), None);
    }
}
