//! Test helpers for code instrumented with `only1mcp-obs`: a real OTLP trace receiver, the real
//! `promtool` with structured results, and a small HTTP client for loopback servers.

pub mod http;
pub mod promtool;
pub mod traces;

use std::time::{Duration, Instant};

/// Polls `probe` until it returns `Some`, or fails after `deadline` with the last state seen.
///
/// ```
/// use std::time::Duration;
/// let mut n = 0;
/// let got = only1mcp_obs_testkit::poll(Duration::from_secs(1), || { n += 1; (n >= 3).then_some(n) });
/// assert_eq!(got.unwrap(), 3);
/// ```
pub fn poll<T>(deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> Result<T, String> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(5);
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if start.elapsed() >= deadline {
            return Err(format!("gave up after {:?}", start.elapsed()));
        }
        // Backoff between probes, bounded by the deadline: this is the polling, not a fixed wait.
        std::thread::sleep(wait.min(deadline.saturating_sub(start.elapsed())));
        wait = (wait * 2).min(Duration::from_millis(200));
    }
}
