//! Progress notifications from a backend, relayed to the client whose call they belong to.
//!
//! A backend sees one client, the aggregator, shared by every client session. A call that a
//! client sends with a `progressToken` goes on under the token the aggregator's own MCP client
//! gives each request, and the backend's `notifications/progress` for it are sent back to the
//! session that made the call, under the token that session chose. Tokens are registered while
//! their call runs and a quarter second after, so the table is as large as the calls in flight
//! and just finished; progress that arrives before its call is registered waits in a small
//! bounded buffer.

use rmcp::model::{ClientConfig, ProgressNotificationParam, ProgressToken};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, Peer, RoleClient, RoleServer};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// Progress notifications kept for calls not registered yet (the backend answered faster than
/// the aggregator registered its call); the oldest go first.
const EARLY: usize = 32;

/// Where the progress of a call goes: the client's session and the token it chose.
type Waiting = (Peer<RoleServer>, ProgressToken);

/// The calls in flight on one backend that asked for progress.
#[derive(Default)]
pub(crate) struct ProgressRelay {
    waiting: Mutex<HashMap<ProgressToken, Waiting>>,
    early: Mutex<VecDeque<ProgressNotificationParam>>,
}

impl std::fmt::Debug for ProgressRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("ProgressRelay")
            .field("waiting", &waiting)
            .finish()
    }
}

/// A call's place in the relay; dropping it (the call ended) removes it.
#[derive(Debug)]
pub(crate) struct Registration {
    relay: Arc<ProgressRelay>,
    key: ProgressToken,
}

/// How long a finished call's progress is still relayed. rmcp hands each notification to its
/// own task, so the last progress of a call can be handled just after the call's answer.
const GRACE: std::time::Duration = std::time::Duration::from_millis(250);

impl Registration {
    /// Ends the call's relay: progress handled by now has been sent; what comes in the next
    /// [`GRACE`] still goes to the client, then the entry goes.
    pub(crate) async fn finish(self) {
        // Notifications that arrived before the answer have tasks ready to run: let them.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        drop(self);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
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

impl ProgressRelay {
    /// Registers a call the backend knows under `upstream` whose client asked for progress
    /// under `token`; progress that came before is sent on at once.
    pub(crate) async fn register(
        self: &Arc<Self>,
        upstream: ProgressToken,
        client: Peer<RoleServer>,
        token: ProgressToken,
    ) -> Registration {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(upstream.clone(), (client, token));
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
        }
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

/// The aggregator as a client of one backend: rmcp's client plus the progress relay.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamHandler {
    pub(crate) info: ClientConfig,
    pub(crate) progress: Arc<ProgressRelay>,
}

impl ClientHandler for UpstreamHandler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.relay(params).await;
    }
}
