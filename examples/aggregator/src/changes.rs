//! What the backends say to no call in particular, relayed to the clients: list changes to
//! every client, log messages to the sessions that asked for them.
//!
//! A backend that says its tools, prompts or resources changed (`notifications/*/list_changed`)
//! changes what the aggregator lists, so every client is told: a `2025-11-25` session from the
//! moment it is initialized, a `2026-07-28` client on the `subscriptions/listen` stream it opens
//! for the lists it names. The next list asks the backends again, which also refreshes the
//! routes of later calls.
//!
//! The backends' notifications meet the clients on one broadcast channel of [`CAPACITY`]
//! entries. A client that falls behind it is told every list changed, which is true enough: it
//! lists again. A session's relay ends when a notification cannot reach it, or at the first
//! check after its transport closed ([`CHECK_CLOSED`]), so relays never outlive their sessions
//! for long.
//!
//! Each relayed notification is a span (kind client), in the trace of the call in flight on its
//! backend when there is exactly one (what most likely caused it), otherwise a trace of its own.

// Logging is deprecated by SEP-2577 but is part of protocol 2025-11-25, which clients speak.
#![allow(deprecated)]

use only1mcp_obs::mcp_instrumented;
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, RequestMetaObject, SubscriptionFilter,
};
use rmcp::service::SubscriptionContext;
use rmcp::{Peer, RoleServer};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// Notifications kept for a client that has not taken them yet.
const CAPACITY: usize = 64;

/// How often a session's relay checks whether the session is gone, when nothing changes.
const CHECK_CLOSED: Duration = Duration::from_secs(30);

/// Which list changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListChanged {
    Tools,
    Prompts,
    Resources,
}

impl ListChanged {
    /// The notification that says so.
    fn method(self) -> &'static str {
        match self {
            ListChanged::Tools => "notifications/tools/list_changed",
            ListChanged::Prompts => "notifications/prompts/list_changed",
            ListChanged::Resources => "notifications/resources/list_changed",
        }
    }
}

const ALL: [ListChanged; 3] = [
    ListChanged::Tools,
    ListChanged::Prompts,
    ListChanged::Resources,
];

/// The way between the backends' handlers and the clients' relays.
#[derive(Debug, Clone)]
pub(crate) struct Changes {
    lists: broadcast::Sender<ListChanged>,
    /// The sessions that asked for log messages.
    pub(crate) logs: std::sync::Arc<Logs>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            lists: broadcast::channel(CAPACITY).0,
            logs: std::sync::Arc::default(),
        }
    }
}

impl Changes {
    /// A backend's list changed: every client relay hears it (none listening is fine). `trace`:
    /// the call it is most likely about.
    #[mcp_instrumented(method = changed.method(), kind = client, parent = trace)]
    pub(crate) fn publish(&self, changed: ListChanged, trace: &Option<RequestMetaObject>) {
        tracing::debug!(?changed, "a backend's list changed");
        let _ = self.lists.send(changed);
    }

    /// Relays every change to a `2025-11-25` session until it is gone.
    pub(crate) fn relay_to_session(&self, peer: Peer<RoleServer>) {
        let mut changes = self.lists.subscribe();
        tokio::spawn(async move {
            let mut check = tokio::time::interval(CHECK_CLOSED);
            loop {
                let next = tokio::select! {
                    next = changes.recv() => next,
                    _ = check.tick() => {
                        if peer.is_transport_closed() {
                            return;
                        }
                        continue;
                    }
                };
                let Some(changed) = what_changed(&next) else {
                    return;
                };
                for changed in changed {
                    if notify_session(&peer, *changed).await.is_err() {
                        return;
                    }
                }
            }
        });
    }

    /// Relays the changes `subscription` accepted to a `2026-07-28` client's listen stream,
    /// until the client cancels it.
    pub(crate) async fn relay_to_subscription(&self, subscription: SubscriptionContext) {
        let mut changes = self.lists.subscribe();
        loop {
            let next = tokio::select! {
                next = changes.recv() => next,
                () = subscription.cancelled() => return,
            };
            let Some(changed) = what_changed(&next) else {
                return;
            };
            for changed in changed {
                if !accepts(subscription.accepted(), *changed) {
                    continue;
                }
                let sink = subscription.sink();
                let sent = match changed {
                    ListChanged::Tools => sink.notify_tool_list_changed().await,
                    ListChanged::Prompts => sink.notify_prompt_list_changed().await,
                    ListChanged::Resources => sink.notify_resource_list_changed().await,
                };
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "a list-changed notification could not reach its client");
                    return;
                }
            }
        }
    }
}

/// The lists a relay tells its client changed, given what it received: one list, or all of
/// them when it fell behind; `None` when no backend can change anything any more.
fn what_changed(next: &Result<ListChanged, RecvError>) -> Option<&[ListChanged]> {
    match next {
        Ok(changed) => Some(std::slice::from_ref(changed)),
        Err(RecvError::Lagged(_)) => Some(&ALL),
        Err(RecvError::Closed) => None,
    }
}

/// The `2025-11-25` sessions that asked for log messages (`logging/setLevel`), by session id,
/// with the least severe level each wants.
///
/// A backend's `notifications/message` is about the one session it has, the aggregator's, which
/// every client shares: it goes to every session that set a level at or below its own, as it
/// came (its `logger` names the backend's logger). Sessions whose transport closed are dropped at
/// the next `logging/setLevel` or message; the table is as large as the sessions that set a
/// level and are still open.
#[derive(Debug, Default)]
pub(crate) struct Logs {
    sessions: Mutex<HashMap<String, (Peer<RoleServer>, LoggingLevel)>>,
}

/// `level`'s severity: the higher, the more severe.
pub(crate) fn severity(level: LoggingLevel) -> u8 {
    level as u8
}

impl Logs {
    /// Session `id` (on `peer`) wants messages at `level` and above.
    pub(crate) fn set_level(&self, id: &str, peer: Peer<RoleServer>, level: LoggingLevel) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, (peer, _)| !peer.is_transport_closed());
        sessions.insert(id.to_owned(), (peer, level));
    }

    /// Relays a backend's log message to every session that wants its level. `trace`: the call
    /// it is most likely about.
    pub(crate) async fn relay(
        &self,
        message: LoggingMessageNotificationParam,
        trace: &Option<RequestMetaObject>,
    ) {
        let wanting: Vec<Peer<RoleServer>> = {
            let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            sessions.retain(|_, (peer, _)| !peer.is_transport_closed());
            sessions
                .values()
                .filter(|(_, level)| severity(*level) <= severity(message.level))
                .map(|(peer, _)| peer.clone())
                .collect()
        };
        if !wanting.is_empty() {
            relay_log(&wanting, message, trace).await;
        }
    }
}

#[mcp_instrumented(method = "notifications/message", kind = client, parent = trace)]
async fn relay_log(
    sessions: &[Peer<RoleServer>],
    message: LoggingMessageNotificationParam,
    trace: &Option<RequestMetaObject>,
) {
    for peer in sessions {
        if let Err(e) = peer.notify_logging_message(message.clone()).await {
            tracing::debug!(error = %e, "a backend's log message could not reach a client");
        }
    }
}

/// Whether a listen stream with filter `accepted` asked for `changed`.
fn accepts(accepted: &SubscriptionFilter, changed: ListChanged) -> bool {
    let flag = match changed {
        ListChanged::Tools => accepted.tools_list_changed,
        ListChanged::Prompts => accepted.prompts_list_changed,
        ListChanged::Resources => accepted.resources_list_changed,
    };
    flag == Some(true)
}

/// The part of a requested listen filter the aggregator serves: the three list changes, not
/// resource subscriptions.
pub(crate) fn accepted_filter(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut accepted = requested.clone();
    accepted.resource_subscriptions = None;
    accepted
}

async fn notify_session(
    peer: &Peer<RoleServer>,
    changed: ListChanged,
) -> Result<(), rmcp::ServiceError> {
    match changed {
        ListChanged::Tools => peer.notify_tool_list_changed().await,
        ListChanged::Prompts => peer.notify_prompt_list_changed().await,
        ListChanged::Resources => peer.notify_resource_list_changed().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_that_fell_behind_tells_every_list_and_a_closed_channel_ends_it() {
        assert_eq!(
            what_changed(&Ok(ListChanged::Prompts)),
            Some(&[ListChanged::Prompts][..])
        );
        assert_eq!(what_changed(&Err(RecvError::Lagged(3))), Some(&ALL[..]));
        assert_eq!(what_changed(&Err(RecvError::Closed)), None);
    }

    #[test]
    fn a_listen_stream_gets_only_the_lists_it_asked_for_and_no_resource_subscriptions() {
        let mut requested = SubscriptionFilter::new();
        requested.tools_list_changed = Some(true);
        requested.resource_subscriptions = Some(vec!["file:///a".into()]);
        let accepted = accepted_filter(&requested);
        assert_eq!(accepted.resource_subscriptions, None);
        assert!(accepts(&accepted, ListChanged::Tools));
        assert!(!accepts(&accepted, ListChanged::Prompts));
        assert!(!accepts(&accepted, ListChanged::Resources));
    }

    #[test]
    fn severities_rise_from_debug_to_emergency() {
        assert!(severity(LoggingLevel::Debug) < severity(LoggingLevel::Info));
        assert!(severity(LoggingLevel::Warning) < severity(LoggingLevel::Error));
        assert!(severity(LoggingLevel::Alert) < severity(LoggingLevel::Emergency));
    }

    #[tokio::test]
    async fn a_change_with_no_client_listening_is_dropped_and_a_listener_gets_the_next() {
        let changes = Changes::default();
        changes.publish(ListChanged::Tools, &None);
        let mut listener = changes.lists.subscribe();
        changes.publish(ListChanged::Resources, &None);
        assert_eq!(listener.recv().await.ok(), Some(ListChanged::Resources));
    }
}
