//! The audit log: typed events as JSON lines, append-only, each with timestamp, trace id, actor,
//! action and outcome, and hash-chained so that an edit is detected.
//!
//! Callers never wait for the disk: [`AuditLog::record`] hands the record to a writer thread,
//! which writes whatever has queued up in one go and makes it durable per the
//! [`FsyncPolicy`] (group commit: one `fsync` for every record that arrived meanwhile). Every
//! record carries its sequence number and the SHA-256 of the line before it, across rotated
//! files too; [`verify`] recomputes the chain and names the first record that was changed,
//! removed or reordered. A write that fails halfway is sealed with a newline before the next
//! record, so the fragment stays one unreadable line and never swallows an acknowledged record.
//! Files are created `0600`, their directory `0700`. While a log is open, `<path>.lock` is held
//! exclusively: a second process configured with the same file is refused at open.

use crate::log::Redactor;
use crate::rolling::{RollingFile, RollingPolicy, create_parent, open_append};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::fs::{File, TryLockError};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The kinds of event, as `observability.audit.include` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditCategory {
    /// Tool invocations.
    ToolInvocations,
    /// Configuration changes.
    ConfigChanges,
    /// Authentication and authorization.
    AuthEvents,
    /// Administrative actions.
    AdminActions,
}

/// When a record reaches the disk. In every case [`AuditLog::record`] returns once the record is
/// queued, and [`AuditLog::sync`] returns once everything queued before it is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// `fsync` after every write of the writer thread, which writes the records queued within a
    /// millisecond of the first at once: a record is durable a few milliseconds after it was
    /// queued.
    #[default]
    Always,
    /// `fsync` at most every `fsync_interval_ms`: a crash loses at most that much.
    Interval,
    /// Left to the operating system.
    Never,
}

/// `observability.audit.output.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditSink {
    /// A file, rotated by size and pruned by age.
    File,
}

/// `observability.audit.output.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    /// One JSON object per line.
    Json,
}

/// `observability.audit.output`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditOutput {
    /// Where records go: `file` (the only one).
    #[serde(rename = "type")]
    pub kind: AuditSink,
    /// The audit file.
    pub path: PathBuf,
    /// How records are written: `json`, one object per line (the only one).
    pub format: AuditFormat,
    /// Rotated files older than this are deleted.
    pub retention_days: u64,
    /// Rotate when the file would pass this size (1 .. 102400).
    pub max_size_mb: u64,
    /// Rotated files kept (1 .. 10000).
    pub max_files: usize,
    /// When records reach the disk.
    pub fsync: FsyncPolicy,
    /// For `fsync: interval`.
    pub fsync_interval_ms: u64,
}

impl Default for AuditOutput {
    fn default() -> Self {
        AuditOutput {
            kind: AuditSink::File,
            path: default_path(),
            format: AuditFormat::Json,
            retention_days: 90,
            max_size_mb: 100,
            max_files: 90,
            fsync: FsyncPolicy::Always,
            fsync_interval_ms: 1000,
        }
    }
}

/// `$XDG_STATE_HOME/only1mcp/audit.log`, else `~/.local/state/only1mcp/audit.log`: a directory
/// of the user's own, never the shared temp dir. `audit.log` in the working directory when
/// neither variable is set.
pub fn default_path() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        });
    match state {
        Some(dir) => dir.join("only1mcp").join("audit.log"),
        None => PathBuf::from("audit.log"),
    }
}

/// `observability.audit`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Keep an audit log.
    pub enabled: bool,
    /// Which events are recorded.
    pub include: Vec<AuditCategory>,
    /// Where.
    pub output: AuditOutput,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            include: vec![
                AuditCategory::ToolInvocations,
                AuditCategory::ConfigChanges,
                AuditCategory::AuthEvents,
                AuditCategory::AdminActions,
            ],
            output: AuditOutput::default(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    /// A tool was called through the proxy.
    ToolInvocation {
        /// The backend that served it.
        server_id: String,
        /// The tool.
        tool: String,
    },
    /// A configuration value changed (values are redacted when the key looks secret).
    ConfigChange {
        /// The key path.
        key: String,
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
    /// Authentication or authorization.
    Auth {
        /// `login`, `logout`, `denied`, ...
        kind: String,
    },
    /// An administrative action such as a reload or a backend being removed.
    Admin {
        /// What was done.
        action: String,
    },
}

impl AuditEvent {
    /// The category `include` filters on.
    pub fn category(&self) -> AuditCategory {
        match self {
            AuditEvent::ToolInvocation { .. } => AuditCategory::ToolInvocations,
            AuditEvent::ConfigChange { .. } => AuditCategory::ConfigChanges,
            AuditEvent::Auth { .. } => AuditCategory::AuthEvents,
            AuditEvent::Admin { .. } => AuditCategory::AdminActions,
        }
    }

    fn action_and_details(&self, redactor: &Redactor) -> (String, Value) {
        match self {
            AuditEvent::ToolInvocation { server_id, tool } => (
                "tool_invocation".into(),
                json!({ "server_id": server_id, "tool": tool }),
            ),
            AuditEvent::ConfigChange { key, old, new } => {
                let shown = |v: &Option<String>| match v {
                    Some(_) if redactor.is_secret_field(key) => {
                        Some(crate::log::REDACTED.to_owned())
                    }
                    Some(v) => Some(redactor.redact(v).into_owned()),
                    None => None,
                };
                (
                    "config_change".into(),
                    json!({ "key": key, "old": shown(old), "new": shown(new) }),
                )
            }
            AuditEvent::Auth { kind } => (format!("auth_{kind}"), json!({})),
            AuditEvent::Admin { action } => ("admin_action".into(), json!({ "action": action })),
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain: one more than the record before it, across rotated files.
    #[serde(default)]
    pub seq: u64,
    /// SHA-256 (hex) of the previous record's line; 64 zeros for the first record ever.
    #[serde(default)]
    pub prev: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// The trace the action happened in, if any.
    pub trace_id: Option<String>,
    /// Who: a client id, user, or `system`.
    pub actor: String,
    /// What: `tool_invocation`, `config_change`, `auth_login`, `admin_action`, ...
    pub action: String,
    /// `success`, `failure`, `denied`, ...
    pub outcome: String,
    /// Event-specific fields.
    pub details: Value,
}

/// The `prev` of the first record of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn sha256_hex(line: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(line)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Records waiting for the writer thread; past this, [`AuditLog::record`] refuses new ones.
const QUEUE: usize = 65_536;
/// Most records written before one `fsync`.
const GROUP: usize = 1024;
/// With `fsync: always`, how long the writer gathers records after the first one of a group
/// before it writes and syncs them together: under load one `fsync` serves many records.
const GATHER: Duration = Duration::from_millis(1);

enum Job {
    Record(Box<AuditRecord>),
    Sync(SyncSender<io::Result<()>>),
}

/// Faults injected into the writer, for tests of what the log does when the disk misbehaves.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Added to every `fsync`.
    pub fsync_delay: Duration,
    /// The next write stops after this many bytes and fails (once).
    pub fail_write_after: Option<usize>,
}

/// The writer thread's side.
struct Writer {
    file: RollingFile,
    policy: FsyncPolicy,
    interval: Duration,
    last_sync: Instant,
    /// The chain's head: the next record's `seq` and `prev`.
    seq: u64,
    prev: String,
    /// A write failed partway: the fragment must be ended before the next record.
    torn: bool,
    faults: Faults,
    /// `<path>.lock`, held while the writer runs.
    _lock: File,
}

impl Writer {
    fn append(&mut self, mut record: AuditRecord) -> io::Result<()> {
        record.seq = self.seq;
        record.prev = self.prev.clone();
        let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
        let hash = sha256_hex(&line);
        line.push(b'\n');
        if self.torn {
            self.file.write_all(b"\n")?;
            self.torn = false;
        }
        let written = match self.faults.fail_write_after.take() {
            Some(n) => self
                .file
                .write_all(&line[..n.min(line.len())])
                .and(Err(io::Error::other("injected partial write"))),
            None => self.file.write_all(&line),
        };
        if let Err(e) = written {
            self.torn = true;
            return Err(e);
        }
        self.seq += 1;
        self.prev = hash;
        Ok(())
    }

    fn fsync(&mut self) -> io::Result<()> {
        if !self.faults.fsync_delay.is_zero() {
            // The injected fault itself (tests only): a disk whose fsync takes this long.
            std::thread::sleep(self.faults.fsync_delay);
        }
        self.last_sync = Instant::now();
        self.file.file().sync_data()
    }

    /// Writes a group of jobs; syncs per the policy, or when a caller asked.
    fn run_group(&mut self, jobs: Vec<Job>) {
        let mut waiting = Vec::new();
        for job in jobs {
            match job {
                Job::Record(record) => {
                    if let Err(e) = self.append(*record) {
                        tracing::error!(target: "only1mcp_obs::audit", error = %e, "audit record not written");
                    }
                }
                Job::Sync(ack) => waiting.push(ack),
            }
        }
        let due = match self.policy {
            FsyncPolicy::Always => true,
            FsyncPolicy::Interval => self.last_sync.elapsed() >= self.interval,
            FsyncPolicy::Never => false,
        };
        if due || !waiting.is_empty() {
            let result = self.fsync();
            if let Err(e) = &result {
                tracing::error!(target: "only1mcp_obs::audit", error = %e, "audit fsync failed");
            }
            for ack in waiting {
                let copy = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                };
                let _ = ack.send(copy);
            }
        }
    }

    fn run(mut self, jobs: Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            // With `fsync: always`, records queued within `GATHER` of the first share its
            // `fsync` (group commit). This is a deliberate fixed delay, not a wait for a
            // condition: the writer sleeps rather than blocks on the queue, so the request
            // threads that enqueue meanwhile never pay a wake-up of this thread per record.
            // Durability is at most `GATHER` later than before; a caller waiting in `sync` is
            // never delayed by it.
            if self.policy == FsyncPolicy::Always && !matches!(first, Job::Sync(_)) {
                std::thread::sleep(GATHER);
            }
            let mut group = vec![first];
            while group.len() < GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.run_group(group);
        }
        // Every handle is gone: what was queued is written; make it durable.
        let _ = self.fsync();
    }
}

/// An open audit log, shared by every writer of the process.
pub struct AuditLog {
    jobs: Option<SyncSender<Job>>,
    worker: Option<JoinHandle<()>>,
    include: Vec<AuditCategory>,
    fsync: FsyncPolicy,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("include", &self.include)
            .field("fsync", &self.fsync)
            .finish()
    }
}

fn now_rfc3339() -> String {
    use tracing_subscriber::fmt::time::FormatTime as _;
    let mut out = String::new();
    let _ = tracing_subscriber::fmt::time::SystemTime
        .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut out));
    out
}

/// Ends a torn last line (a crash mid-write) with a newline, so it stays one unreadable line and
/// the next record starts cleanly.
fn seal_torn_tail(path: &Path) -> io::Result<()> {
    let Ok(mut file) = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
    else {
        return Ok(());
    };
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")?;
        file.sync_data()?;
    }
    Ok(())
}

/// Takes `<path>.lock` exclusively (created `0600`), so that two processes configured with the
/// same file never interleave their records and break each other's chain. The lock goes with
/// the returned file.
fn lock(path: &Path) -> io::Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    create_parent(&lock_path, true)?;
    let file = open_append(&lock_path, true).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot open {}: {e}", lock_path.display()),
        )
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::ResourceBusy,
            format!(
                "the audit log {} is already open elsewhere ({} is locked): give each process its own audit.output.path",
                path.display(),
                lock_path.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(io::Error::new(
            e.kind(),
            format!("cannot lock {}: {e}", lock_path.display()),
        )),
    }
}

/// The chain's head after the records already in `path` (or in its newest rotated file).
fn chain_head(path: &Path) -> (u64, String) {
    let mut rotated = path.as_os_str().to_owned();
    rotated.push(".1");
    for file in [path.to_path_buf(), PathBuf::from(rotated)] {
        let Ok(text) = std::fs::read(&file) else {
            continue;
        };
        let last = text
            .rsplit(|b| *b == b'\n')
            .find_map(|line| Some((line, serde_json::from_slice::<AuditRecord>(line).ok()?)));
        if let Some((line, record)) = last {
            return (record.seq + 1, sha256_hex(line));
        }
    }
    (0, GENESIS.to_owned())
}

impl AuditLog {
    /// Opens the audit file of `config` for appending and starts its writer thread.
    ///
    /// ```
    /// use only1mcp_obs::audit::{AuditConfig, AuditEvent, AuditLog, read, verify};
    /// let dir = std::env::temp_dir().join(format!("audit-doc-{}", std::process::id()));
    /// let mut config = AuditConfig::default();
    /// config.output.path = dir.join("audit.log");
    /// let log = AuditLog::open(&config).unwrap();
    /// log.record("client-7", &AuditEvent::ToolInvocation { server_id: "github".into(), tool: "search".into() }, "success").unwrap();
    /// log.sync().unwrap(); // everything queued is on disk
    /// let read = read(&config.output.path).unwrap();
    /// assert_eq!(read.records[0].actor, "client-7");
    /// assert!(verify(&config.output.path).unwrap().is_intact());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn open(config: &AuditConfig) -> io::Result<Self> {
        Self::open_with_faults(config, Faults::default())
    }

    #[doc(hidden)]
    pub fn open_with_faults(config: &AuditConfig, faults: Faults) -> io::Result<Self> {
        let path = &config.output.path;
        let lock = lock(path)?;
        seal_torn_tail(path)?;
        let policy = RollingPolicy {
            max_bytes: config.output.max_size_mb.clamp(1, 102_400) * 1024 * 1024,
            max_files: config.output.max_files.max(1),
            compress: false,
            retention: Some(Duration::from_secs(
                config.output.retention_days.clamp(1, 36_500) * 86_400,
            )),
            private: true,
        };
        let (seq, prev) = chain_head(path);
        let writer = Writer {
            file: RollingFile::open(path, policy)?,
            policy: config.output.fsync,
            interval: Duration::from_millis(config.output.fsync_interval_ms),
            last_sync: Instant::now(),
            seq,
            prev,
            torn: false,
            faults,
            _lock: lock,
        };
        let (jobs, receiver) = sync_channel(QUEUE);
        let worker = std::thread::Builder::new()
            .name("only1mcp-obs-audit".to_owned())
            .spawn(move || writer.run(receiver))?;
        Ok(AuditLog {
            jobs: Some(jobs),
            worker: Some(worker),
            include: config.include.clone(),
            fsync: config.output.fsync,
        })
    }

    /// Queues one record, with the current trace id, for the writer thread; never waits for
    /// the disk. Events whose category is not included are ignored. An error means the record
    /// was not queued: the writer is gone, or 65 536 records are already waiting (the disk
    /// is stuck).
    pub fn record(&self, actor: &str, event: &AuditEvent, outcome: &str) -> io::Result<()> {
        if !self.include.contains(&event.category()) {
            return Ok(());
        }
        // The redactor in effect now, not the one when the log was opened.
        let (action, details) = crate::runtime::with(|rt| event.action_and_details(&rt.redactor));
        let record = AuditRecord {
            seq: 0,
            prev: String::new(),
            timestamp: now_rfc3339(),
            trace_id: crate::call::trace_id(),
            actor: actor.to_owned(),
            action,
            outcome: outcome.to_owned(),
            details,
        };
        match self.sender()?.try_send(Job::Record(Box::new(record))) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "audit queue full: the audit file is not being written",
            )),
            Err(TrySendError::Disconnected(_)) => Err(writer_gone()),
        }
    }

    fn sender(&self) -> io::Result<&SyncSender<Job>> {
        self.jobs.as_ref().ok_or_else(writer_gone)
    }

    /// Waits until everything queued before this call is written and on disk.
    pub fn sync(&self) -> io::Result<()> {
        let (ack, done) = sync_channel(1);
        self.sender()?
            .send(Job::Sync(ack))
            .map_err(|_| writer_gone())?;
        done.recv().map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the audit writer has stopped")
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and sync it.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// What [`read`] found.
#[derive(Debug, Clone, Default)]
pub struct AuditRead {
    /// Every complete record, in order.
    pub records: Vec<AuditRecord>,
    /// Lines that are not records (torn by a crash), with their line numbers; skipped.
    pub skipped: Vec<(usize, String)>,
}

/// Reads an audit file, skipping (and reporting) torn or foreign lines instead of failing.
pub fn read(path: &Path) -> io::Result<AuditRead> {
    let file = std::fs::File::open(path)?;
    let mut out = AuditRead::default();
    for (n, line) in io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(&line) {
            Ok(record) => out.records.push(record),
            Err(_) => out
                .skipped
                .push((n + 1, String::from_utf8_lossy(&line).into_owned())),
        }
    }
    Ok(out)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// Records whose chain links were checked.
    pub records: usize,
    /// Lines that are not records (a write torn by a crash), with their line numbers.
    pub torn: Vec<usize>,
    /// The first break in the chain, if any.
    pub broken: Option<ChainBreak>,
}

impl Verification {
    /// Whether every record is where the chain says it should be, unchanged.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// Line number (from 1) of the record where the chain no longer holds.
    pub line: usize,
    /// Its sequence number.
    pub seq: u64,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} (seq {}): {}", self.line, self.seq, self.reason)
    }
}

/// Checks the hash chain of an audit file: each record's `seq` follows the one before it and
/// its `prev` is the SHA-256 of the line before it. Names the first record that was changed,
/// removed or reordered. The first record of a file may continue a rotated file; its link back
/// is checked when the file starts the chain (`seq` 0).
///
/// ```
/// # use only1mcp_obs::audit::{AuditConfig, AuditEvent, AuditLog, verify};
/// # let dir = std::env::temp_dir().join(format!("audit-verify-doc-{}", std::process::id()));
/// # let mut config = AuditConfig::default();
/// # config.output.path = dir.join("audit.log");
/// # let log = AuditLog::open(&config).unwrap();
/// # for tool in ["a", "b", "c"] {
/// #     log.record("me", &AuditEvent::ToolInvocation { server_id: "s".into(), tool: tool.into() }, "success").unwrap();
/// # }
/// # log.sync().unwrap();
/// let path = &config.output.path;
/// let text = std::fs::read_to_string(path).unwrap().replace("\"tool\":\"b\"", "\"tool\":\"x\"");
/// std::fs::write(path, text).unwrap();
/// let found = verify(path).unwrap();
/// assert_eq!(found.broken.unwrap().seq, 1); // the changed record
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
pub fn verify(path: &Path) -> io::Result<Verification> {
    let file = std::fs::File::open(path)?;
    let mut out = Verification::default();
    let mut previous: Option<(u64, String, usize)> = None;
    for (n, line) in io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<AuditRecord>(&line) else {
            out.torn.push(n + 1);
            continue;
        };
        let expected = match &previous {
            Some((seq, hash, _)) => Some((seq + 1, hash.as_str())),
            None if record.seq == 0 => Some((0, GENESIS)),
            None => None,
        };
        if let Some((seq, prev)) = expected
            && let Some(broken) = check_link(&record, seq, prev, n + 1, previous.as_ref())
        {
            out.broken = Some(broken);
            return Ok(out);
        }
        out.records += 1;
        previous = Some((record.seq, sha256_hex(&line), n + 1));
    }
    Ok(out)
}

/// The break at `record` (line `line`), if it does not follow the record before it.
fn check_link(
    record: &AuditRecord,
    seq: u64,
    prev: &str,
    line: usize,
    previous: Option<&(u64, String, usize)>,
) -> Option<ChainBreak> {
    if record.seq != seq {
        return Some(ChainBreak {
            line,
            seq: record.seq,
            reason: format!(
                "expected record {seq} here, found record {}: records were removed or reordered",
                record.seq
            ),
        });
    }
    if record.prev != prev {
        // A changed record breaks the link of the one after it: name the changed one.
        let (line, seq) = previous.map_or((line, record.seq), |(seq, _, line)| (*line, *seq));
        return Some(ChainBreak {
            line,
            seq,
            reason: "changed after it was written: the next record's link to it does not match"
                .to_owned(),
        });
    }
    None
}
