//! List-changed notifications from the backends, relayed to every client.
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

use rmcp::model::SubscriptionFilter;
use rmcp::service::SubscriptionContext;
use rmcp::{Peer, RoleServer};
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

const ALL: [ListChanged; 3] = [
    ListChanged::Tools,
    ListChanged::Prompts,
    ListChanged::Resources,
];

/// The channel between the backends' handlers and the clients' relays.
#[derive(Debug, Clone)]
pub(crate) struct Changes(broadcast::Sender<ListChanged>);

impl Default for Changes {
    fn default() -> Self {
        Changes(broadcast::channel(CAPACITY).0)
    }
}

impl Changes {
    /// A backend's list changed: every client relay hears it (none listening is fine).
    pub(crate) fn publish(&self, changed: ListChanged) {
        tracing::debug!(?changed, "a backend's list changed");
        let _ = self.0.send(changed);
    }

    /// Relays every change to a `2025-11-25` session until it is gone.
    pub(crate) fn relay_to_session(&self, peer: Peer<RoleServer>) {
        let mut changes = self.0.subscribe();
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
        let mut changes = self.0.subscribe();
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

    #[tokio::test]
    async fn a_change_with_no_client_listening_is_dropped_and_a_listener_gets_the_next() {
        let changes = Changes::default();
        changes.publish(ListChanged::Tools);
        let mut listener = changes.0.subscribe();
        changes.publish(ListChanged::Resources);
        assert_eq!(listener.recv().await.ok(), Some(ListChanged::Resources));
    }
}
