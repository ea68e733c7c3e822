//! A live observability stack for `cargo test`: a real Prometheus scraping the process under
//! test, a real Alertmanager with a webhook receiver, and a trace backend receiving OTLP (a real
//! Jaeger, or a real OTLP receiver in the test process), all on 127.0.0.1, with assertions that
//! poll with a deadline and say what they saw when they fail.
//!
//! Components run as local processes or as containers through testcontainers with host
//! networking; `ONLY1MCP_TESTKIT_BACKEND` (`process`, `container`, `auto`) picks, see
//! [`backend`]. Two [`generation`]s of the stack can run: Prometheus 3.16 / Alertmanager 0.35 /
//! Jaeger 2.13, built from their pinned Go modules by `scripts/build-stack` (the default), and
//! Debian's Prometheus 2.42 / Alertmanager 0.25 (`ONLY1MCP_TESTKIT_GENERATION=legacy`, or
//! [`stack::LiveStackBuilder::generation`]). Where no image can be pulled,
//! `scripts/build-test-images` builds them `FROM scratch` from those binaries. Spans go to
//! Jaeger when it can run on the backend and to the in-process receiver otherwise; both answer
//! the same queries, see [`traces`]. `ONLY1MCP_TESTKIT_REQUIRE` (`process`, `container`,
//! `jaeger`) turns what cannot run into a failure instead of a skip.
//!
//! A test picks the generation itself:
//!
//! ```no_run
//! use only1mcp_obs_testkit::{backend::Backend, generation::Generation, stack::LiveStack};
//!
//! for generation in Generation::ALL {
//!     let stack = LiveStack::builder(Backend::Process)
//!         .generation(generation)
//!         .scrape("127.0.0.1:9464")
//!         .with_alertmanager()
//!         .start()
//!         .unwrap();
//!     assert_eq!(stack.prometheus.version().unwrap(), generation.prometheus_version());
//! }
//! ```
//!
//! ```no_run
//! use only1mcp_obs_testkit::{backend::Backend, stack::LiveStack, traces::SpanQuery};
//! use std::time::Duration;
//!
//! let stack = LiveStack::builder(Backend::from_env()).scrape("127.0.0.1:9464").start().unwrap();
//! // ... run the workload, exporting spans to stack.traces.grpc_endpoint() ...
//! stack.prometheus
//!     .eventually("sum(only1mcp_mcp_requests_total)", |s| s.first().is_some_and(|s| s.value >= 1.0), Duration::from_secs(15))
//!     .unwrap();
//! stack.traces.wait_for(&SpanQuery::name("tools/call search"), Duration::from_secs(15)).unwrap();
//! ```

pub mod alertmanager;
pub mod backend;
pub mod capture;
pub mod generation;
pub mod http;
pub mod prometheus;
pub mod promtool;
pub mod stack;
pub mod traces;

use std::time::{Duration, Instant};

/// How long a component may take to become ready after it is started. Generous: a first start
/// on a cold machine (binaries and images not yet in the page cache, several tests starting
/// their stacks at once on two cores) has been seen to take over 30 s; a ready component ends
/// the wait at once.
pub(crate) const STARTUP: Duration = Duration::from_secs(90);

/// A wait that ran out of time: what was awaited, how long it was waited for, and what was
/// seen last (to tell why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitError {
    /// What was awaited.
    pub awaited: String,
    /// How long.
    pub waited: Duration,
    /// The last state seen; empty when there is nothing to show.
    pub last_seen: String,
}

impl WaitError {
    /// The same timeout, saying what was awaited and what was seen last.
    pub fn of(self, awaited: impl Into<String>, last_seen: impl Into<String>) -> Self {
        WaitError {
            awaited: awaited.into(),
            waited: self.waited,
            last_seen: last_seen.into(),
        }
    }
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: not seen after {:?}", self.awaited, self.waited)?;
        if !self.last_seen.is_empty() {
            write!(f, "; {}", self.last_seen)?;
        }
        Ok(())
    }
}

impl std::error::Error for WaitError {}

/// Polls `probe` until it returns `Some`, or fails after `deadline` (see [`WaitError::of`] to
/// say what was awaited and seen).
///
/// ```
/// use std::time::Duration;
/// let mut n = 0;
/// let got = only1mcp_obs_testkit::poll(Duration::from_secs(1), || { n += 1; (n >= 3).then_some(n) });
/// assert_eq!(got.unwrap(), 3);
/// let never = only1mcp_obs_testkit::poll(Duration::from_millis(20), || None::<u8>).unwrap_err();
/// assert!(never.to_string().starts_with("the probe: not seen after"));
/// ```
pub fn poll<T>(deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> Result<T, WaitError> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(5);
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if start.elapsed() >= deadline {
            return Err(WaitError {
                awaited: "the probe".to_owned(),
                waited: start.elapsed(),
                last_seen: String::new(),
            });
        }
        // Backoff between probes, bounded by the deadline: this is the polling, not a fixed wait.
        std::thread::sleep(wait.min(deadline.saturating_sub(start.elapsed())));
        wait = (wait * 2).min(Duration::from_millis(200));
    }
}
