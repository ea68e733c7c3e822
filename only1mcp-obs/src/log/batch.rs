//! The writer of log files: lines gather in a shared buffer and a thread of its own writes them
//! in batches, every [`FLUSH_EVERY`] or as soon as [`HIGH_WATER`] bytes wait. Writing a line
//! never waits for the disk and never wakes a thread (a channel-based writer wakes its thread
//! for nearly every line under load, a context switch per line). At most [`MAX_WAITING`] bytes
//! wait; lines past that are dropped, and the file says how many when the writer catches up.

use std::io::{self, Write};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How long a line waits at most before it is written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Bytes waiting that wake the writer at once.
pub(crate) const HIGH_WATER: usize = 256 * 1024;
/// Bytes that may wait at most; lines past it are dropped.
pub(crate) const MAX_WAITING: usize = 8 * 1024 * 1024;

/// What the lines and the writer thread share.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<u8>,
    closed: bool,
}

/// Makes the writer of each line (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct BatchWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped, after it has written every line that waits.
#[derive(Debug)]
pub(crate) struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl BatchWriter {
    /// Starts the thread that writes to `out`.
    pub(crate) fn start(out: impl Write + Send + 'static) -> io::Result<(Self, BatchGuard)> {
        let shared = Arc::new(Shared::default());
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("only1mcp-obs-log".into())
            .spawn(move || write_batches(&worker, out))?;
        Ok((
            BatchWriter {
                shared: shared.clone(),
            },
            BatchGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer thread: takes what waits, writes it, and sleeps until the next turn.
fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let closed = {
            let mut state = shared.lock();
            if state.waiting.is_empty() && !state.closed {
                // Woken early by a full buffer or the guard; otherwise this is the turn.
                state = shared
                    .wake
                    .wait_timeout(state, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut batch, &mut state.waiting);
            state.closed
        };
        let dropped = shared.dropped.swap(0, Relaxed);
        if dropped > 0 {
            let _ = writeln!(
                out,
                "{{\"level\":\"WARN\",\"target\":\"only1mcp_obs::log\",\"message\":\"{dropped} log lines dropped: more than {MAX_WAITING} bytes waited to be written\"}}"
            );
        }
        if !batch.is_empty() {
            let _ = out.write_all(&batch);
            let _ = out.flush();
            batch.clear();
        }
        if closed && shared.lock().waiting.is_empty() {
            return;
        }
        // A turn without lines keeps its memory; a large one gives it back.
        if batch.capacity() > HIGH_WATER {
            batch = Vec::new();
        }
    }
}

/// One line's writer: appends to the shared buffer.
#[derive(Debug)]
pub(crate) struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut state = self.shared.lock();
        if state.waiting.len() + line.len() > MAX_WAITING {
            drop(state);
            self.shared.dropped.fetch_add(1, Relaxed);
            return Ok(line.len());
        }
        let before = state.waiting.len();
        state.waiting.extend_from_slice(line);
        let crossed = before < HIGH_WATER && state.waiting.len() >= HIGH_WATER;
        drop(state);
        if crossed {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_drops() {
        let sink = Sink::default();
        let (writer, guard) = BatchWriter::start(sink.clone()).expect("start");
        for n in 0..10_000 {
            let _ = writeln!(writer.make_writer(), "line {n}");
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines
                .iter()
                .enumerate()
                .all(|(n, l)| *l == format!("line {n}"))
        );
    }

    #[test]
    fn lines_past_the_bound_are_dropped_and_said_so() {
        // A stalled disk: the sink's writes wait until the test opens its gate, so lines pile
        // up past the bound meanwhile (the writer takes at most one batch before it blocks).
        struct Stalled {
            sink: Sink,
            gate: std::sync::mpsc::Receiver<()>,
            open: bool,
        }
        impl Write for Stalled {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if !self.open {
                    let _ = self.gate.recv();
                    self.open = true;
                }
                self.sink.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let (open, gate) = std::sync::mpsc::channel();
        let stalled = Stalled {
            sink: sink.clone(),
            gate,
            open: false,
        };
        let (writer, guard) = BatchWriter::start(stalled).expect("start");
        let line = vec![b'x'; 1024];
        for _ in 0..(3 * MAX_WAITING / 1024) {
            let _ = writer.make_writer().write_all(&line);
        }
        let _ = open.send(());
        drop(guard);
        let written = sink.0.lock().expect("sink").clone();
        assert!(written.len() <= 2 * MAX_WAITING + 4096, "{}", written.len());
        let text = String::from_utf8_lossy(&written);
        assert!(text.contains("log lines dropped"), "no drop was reported");
    }
}
