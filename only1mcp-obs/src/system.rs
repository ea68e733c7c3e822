//! The process's own resource use, sampled per interval: resident and virtual memory, and CPU
//! time as a percentage of one core (the design's "load average x 100 / cores" and system-wide
//! memory measured the machine, not the process).

use crate::catalogue::{CPU_USAGE_PERCENT, CpuCore, MEMORY_USAGE_BYTES, MemoryType};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One reading of the process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSample {
    /// Resident set size, bytes.
    pub resident_bytes: u64,
    /// Virtual size, bytes.
    pub virtual_bytes: u64,
    /// User plus system CPU time since start, seconds.
    pub cpu_seconds: f64,
}

/// Reads the process's memory and CPU time from `/proc/self`.
pub fn sample() -> std::io::Result<ProcessSample> {
    let stat = procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .map_err(std::io::Error::other)?;
    Ok(ProcessSample {
        resident_bytes: stat.rss * procfs::page_size(),
        virtual_bytes: stat.vsize,
        cpu_seconds: (stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64,
    })
}

/// Samples the process every interval into `only1mcp_memory_usage_bytes{type}` and
/// `only1mcp_cpu_usage_percent{core="process"}`; stops when dropped.
#[derive(Debug)]
pub struct SystemCollector {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SystemCollector {
    /// Starts sampling on a thread of its own.
    ///
    /// ```
    /// let collector = only1mcp_obs::system::SystemCollector::start(std::time::Duration::from_millis(100)).unwrap();
    /// drop(collector);
    /// ```
    pub fn start(interval: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("only1mcp-obs-system".into())
            .spawn(move || {
                let process = CpuCore::new("process");
                let mut last: Option<(Instant, f64)> = None;
                while !stopped.load(Ordering::Relaxed) {
                    if let Ok(s) = sample() {
                        MEMORY_USAGE_BYTES
                            .labels(MemoryType::Resident)
                            .set(s.resident_bytes as f64);
                        MEMORY_USAGE_BYTES
                            .labels(MemoryType::Virtual)
                            .set(s.virtual_bytes as f64);
                        let now = Instant::now();
                        if let Some((then, cpu)) = last {
                            let wall = now.duration_since(then).as_secs_f64();
                            if wall > 0.0 {
                                CPU_USAGE_PERCENT
                                    .labels(process)
                                    .set((s.cpu_seconds - cpu).max(0.0) / wall * 100.0);
                            }
                        }
                        last = Some((now, s.cpu_seconds));
                    }
                    // The sampling period itself; `park_timeout` wakes early when dropped.
                    std::thread::park_timeout(interval);
                }
            })?;
        Ok(SystemCollector {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for SystemCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
