//! The audit log: typed events as JSON lines, append-only, each with timestamp, trace id, actor,
//! action and outcome. One line is one `write` under a lock, so concurrent writers never
//! interleave; a line torn by a crash is detected and skipped on read, and a new record after a
//! restart starts on a fresh line, so the file is never corrupted.

use crate::log::Redactor;
use crate::rolling::{RollingFile, RollingPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
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

/// When the audit file is flushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// After every record: nothing acknowledged is lost on power failure.
    #[default]
    Always,
    /// At most every `fsync_interval_ms`: a crash loses at most that much.
    Interval,
    /// Left to the operating system.
    Never,
}

/// `observability.audit.output`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditOutput {
    /// Always `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The audit file.
    pub path: PathBuf,
    /// Always `json` (one object per line).
    pub format: String,
    /// Rotated files older than this are deleted.
    pub retention_days: u64,
    /// Rotate when the file would pass this size.
    pub max_size_mb: u64,
    /// Rotated files kept.
    pub max_files: usize,
    /// When records reach the disk.
    pub fsync: FsyncPolicy,
    /// For `fsync: interval`.
    pub fsync_interval_ms: u64,
}

impl Default for AuditOutput {
    fn default() -> Self {
        AuditOutput {
            kind: "file".into(),
            path: PathBuf::from("audit.log"),
            format: "json".into(),
            retention_days: 90,
            max_size_mb: 100,
            max_files: 90,
            fsync: FsyncPolicy::Always,
            fsync_interval_ms: 1000,
        }
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

struct Writer {
    file: RollingFile,
    last_sync: Instant,
    /// Records written so far.
    written: u64,
}

/// An open audit log, shared by every writer of the process.
pub struct AuditLog {
    writer: Mutex<Writer>,
    /// Records known to be on disk (`fsync: always`). Held while syncing, so one fsync covers
    /// every record written before it started, whoever wrote it (group commit).
    synced: Mutex<u64>,
    include: Vec<AuditCategory>,
    fsync: FsyncPolicy,
    fsync_interval: Duration,
    redactor: Redactor,
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

impl AuditLog {
    /// Opens the audit file of `config` for appending.
    ///
    /// ```
    /// use only1mcp_obs::audit::{AuditConfig, AuditEvent, AuditLog, read};
    /// let dir = std::env::temp_dir().join(format!("audit-doc-{}", std::process::id()));
    /// let mut config = AuditConfig::default();
    /// config.output.path = dir.join("audit.log");
    /// let log = AuditLog::open(&config).unwrap();
    /// log.record("client-7", &AuditEvent::ToolInvocation { server_id: "github".into(), tool: "search".into() }, "success").unwrap();
    /// let read = read(&config.output.path).unwrap();
    /// assert_eq!(read.records[0].actor, "client-7");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn open(config: &AuditConfig) -> io::Result<Self> {
        seal_torn_tail(&config.output.path)?;
        let policy = RollingPolicy {
            max_bytes: config.output.max_size_mb.max(1) * 1024 * 1024,
            max_files: config.output.max_files,
            compress: false,
            retention: Some(Duration::from_secs(config.output.retention_days * 86_400)),
        };
        let file = RollingFile::open(&config.output.path, policy)?;
        Ok(AuditLog {
            writer: Mutex::new(Writer {
                file,
                last_sync: Instant::now(),
                written: 0,
            }),
            synced: Mutex::new(0),
            include: config.include.clone(),
            fsync: config.output.fsync,
            fsync_interval: Duration::from_millis(config.output.fsync_interval_ms),
            redactor: crate::trace::redactor().as_ref().clone(),
        })
    }

    /// Appends one record, with the current trace id. Events whose category is not included
    /// are ignored. With `fsync: always` it returns once the record is on disk.
    pub fn record(&self, actor: &str, event: &AuditEvent, outcome: &str) -> io::Result<()> {
        match self.line(actor, event, outcome)? {
            Some(line) => self.append(&line),
            None => Ok(()),
        }
    }

    /// [`AuditLog::record`] for async callers: the record (trace id, time) is made on the
    /// caller's task; waiting for the disk (`fsync: always`) happens on a blocking thread, so the
    /// runtime's workers go on serving, and records written meanwhile share one fsync.
    pub async fn record_async(
        self: &std::sync::Arc<Self>,
        actor: &str,
        event: &AuditEvent,
        outcome: &str,
    ) -> io::Result<()> {
        let Some(line) = self.line(actor, event, outcome)? else {
            return Ok(());
        };
        if self.fsync != FsyncPolicy::Always {
            return self.append(&line);
        }
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.append(&line))
            .await
            .map_err(io::Error::other)?
    }

    /// The JSON line of a record, or `None` when its category is not included.
    fn line(&self, actor: &str, event: &AuditEvent, outcome: &str) -> io::Result<Option<Vec<u8>>> {
        if !self.include.contains(&event.category()) {
            return Ok(None);
        }
        let (action, details) = event.action_and_details(&self.redactor);
        let record = AuditRecord {
            timestamp: now_rfc3339(),
            trace_id: crate::call::trace_id(),
            actor: actor.to_owned(),
            action,
            outcome: outcome.to_owned(),
            details,
        };
        let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
        line.push(b'\n');
        Ok(Some(line))
    }

    /// Writes one line (one `write` under the lock) and syncs it as the policy says.
    fn append(&self, line: &[u8]) -> io::Result<()> {
        let written = {
            let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            writer.file.write_all(line)?;
            writer.written += 1;
            let due = match self.fsync {
                FsyncPolicy::Interval => writer.last_sync.elapsed() >= self.fsync_interval,
                FsyncPolicy::Always | FsyncPolicy::Never => false,
            };
            if due {
                writer.file.file().sync_data()?;
                writer.last_sync = Instant::now();
            }
            writer.written
        };
        if self.fsync == FsyncPolicy::Always {
            self.sync_through(written)?;
        }
        Ok(())
    }

    /// Returns once the first `written` records are on disk: a sync already under way when
    /// they were written does not count, one started after does. Writers keep appending while
    /// the disk syncs (a rotation syncs the file it closes).
    fn sync_through(&self, written: u64) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        if *synced >= written {
            return Ok(());
        }
        let (upto, file) = {
            let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            (writer.written, writer.file.file().try_clone()?)
        };
        file.sync_data()?;
        *synced = upto;
        Ok(())
    }

    /// Flushes everything to disk.
    pub fn sync(&self) -> io::Result<()> {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .file
            .file()
            .sync_data()
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let _ = self.sync();
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
