//! Captures what a log writer writes, for assertions on log lines.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A writer that keeps everything written to it; clones share the same buffer. Use it as a
/// `tracing_subscriber` writer with `move || capture.clone()`.
///
/// ```
/// use std::io::Write;
/// let capture = only1mcp_obs_testkit::capture::LogCapture::default();
/// let mut writer = capture.clone();
/// writeln!(writer, "{{\"message\":\"hello\"}}").unwrap();
/// assert_eq!(capture.lines().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl Write for LogCapture {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
