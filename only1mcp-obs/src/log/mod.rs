//! Logging: `tracing` events as JSON lines that carry the OpenTelemetry `trace_id` and `span_id`
//! (so a log line is found from a trace and back), pretty and compact formats for development,
//! `RUST_LOG`, file output with rotation, and secret redaction before any output.

mod batch;
mod format;
mod redact;

pub use format::{EventFormat, RedactedFields, Redaction};
pub use redact::{DEFAULT_PATTERNS, REDACTED, Redactor};

/// A level (`info`) or a `RUST_LOG`-style filter (`info,only1mcp_obs=debug`). A bare word that is
/// not a level is refused: `EnvFilter` would read it as a target name and log nothing expected.
fn check_level(key: &str, value: &str) -> Result<(), crate::config::ConfigError> {
    const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];
    let bare_word = !value.contains(['=', ',', ':', '[']);
    let result = if bare_word && !LEVELS.contains(&value.to_ascii_lowercase().as_str()) {
        Err("expected trace, debug, info, warn, error, off, or a filter such as `info,only1mcp_obs=debug`".to_owned())
    } else {
        EnvFilter::try_new(value)
            .map(|_| ())
            .map_err(|e| format!("not a level or filter: {e}"))
    };
    result.map_err(|message| {
        crate::config::ConfigError::value(key, value, &format!("not a level: {message}"))
    })
}

impl LoggingConfig {
    /// Checks every value; keys are relative to `logging`.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        check_level("logging.level", &self.level)?;
        for (i, output) in self.outputs.iter().enumerate() {
            match output {
                LogOutput::Stdout { level }
                | LogOutput::Stderr { level }
                | LogOutput::File { level, .. } => {
                    if let Some(level) = level {
                        check_level(&format!("logging.outputs[{i}].level"), level)?;
                    }
                }
                LogOutput::Loki { .. } => {
                    return Err(ConfigError::value(
                        &format!("logging.outputs[{i}].type"),
                        "loki",
                        "not built in: ship the JSON lines of stdout or a file with an agent (promtail, the collector)",
                    ));
                }
            }
            if let LogOutput::File { rotation, .. } = output {
                if !(1..=102_400).contains(&rotation.max_size_mb) {
                    return Err(ConfigError::value(
                        &format!("logging.outputs[{i}].rotation.max_size_mb"),
                        &rotation.max_size_mb.to_string(),
                        "must be at least 1 and at most 102400",
                    ));
                }
                if rotation.max_files > 10_000 {
                    return Err(ConfigError::value(
                        &format!("logging.outputs[{i}].rotation.max_files"),
                        &rotation.max_files.to_string(),
                        "at most 10000",
                    ));
                }
            }
        }
        Ok(())
    }
}

use crate::rolling::{RollingFile, RollingPolicy};
use serde::Deserialize;
use std::io;
use std::path::PathBuf;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line, with trace ids (production).
    #[default]
    Json,
    /// Multi-line, human-oriented (development).
    Pretty,
    /// One short line per event (development).
    Compact,
}

/// How a log file rotates: by size, keeping a number of files, optionally gzipped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileRotation {
    /// Rotate when the file would pass this size.
    pub max_size_mb: u64,
    /// Rotated files kept.
    pub max_files: usize,
    /// Gzip rotated files.
    pub compress: bool,
}

impl Default for FileRotation {
    fn default() -> Self {
        FileRotation {
            max_size_mb: 100,
            max_files: 7,
            compress: false,
        }
    }
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogOutput {
    /// Standard output.
    Stdout {
        /// Filter for this output (`RUST_LOG` syntax); the global level when absent.
        #[serde(default)]
        level: Option<String>,
    },
    /// Standard error.
    Stderr {
        /// Filter for this output.
        #[serde(default)]
        level: Option<String>,
    },
    /// A file rotated by size, written by a background thread in batches: a line reaches the
    /// file within 20 ms; if more than 8 MiB wait (a stalled disk), lines are dropped and the
    /// file says how many.
    File {
        /// The log file; rotated files get `.1`, `.2`, ... suffixes.
        path: PathBuf,
        /// Filter for this output.
        #[serde(default)]
        level: Option<String>,
        /// Rotation.
        #[serde(default)]
        rotation: FileRotation,
    },
    /// Grafana Loki: not built in (ship the JSON lines of stdout or a file with an agent);
    /// accepted so that a configuration naming it gets a clear error.
    Loki {
        /// Loki's push endpoint.
        endpoint: String,
        /// Stream labels.
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
        /// Filter for this output.
        #[serde(default)]
        level: Option<String>,
    },
}

/// Secret redaction settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    /// Redact at all (on by default).
    pub enabled: bool,
    /// Field-name patterns, matched case-insensitively as substrings.
    pub patterns: Vec<String>,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            enabled: true,
            patterns: DEFAULT_PATTERNS.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

impl RedactConfig {
    /// The redactor these settings describe.
    pub fn redactor(&self) -> Redactor {
        if self.enabled {
            Redactor::new(&self.patterns)
        } else {
            Redactor::new(Vec::<String>::new())
        }
    }
}

/// The `observability.logging` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Default filter (`RUST_LOG` syntax) when `RUST_LOG` is not set.
    pub level: String,
    /// Line format for every output.
    pub format: LogFormat,
    /// Outputs; standard output when empty.
    pub outputs: Vec<LogOutput>,
    /// Secret redaction.
    pub redact: RedactConfig,
    /// Log every instrumented call that succeeds (at its `level`), not only failures and slow
    /// calls. Off by default: a line per call costs more than the rest of the instrumentation.
    pub log_calls: bool,
    /// Calls slower than this many milliseconds are logged at warn.
    pub slow_call_ms: u64,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: "info".to_owned(),
            format: LogFormat::Json,
            outputs: Vec::new(),
            redact: RedactConfig::default(),
            log_calls: false,
            slow_call_ms: 5000,
        }
    }
}

/// Keeps background log writers running; dropping it flushes and stops them.
#[derive(Debug, Default)]
pub struct LogGuards(Vec<batch::BatchGuard>);

/// A boxed layer, as [`layers`] returns them.
pub type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// One formatting layer per configured output, each with its filter. `RUST_LOG`, when set,
/// overrides every configured level. Lines are redacted with the redactor of the
/// [`Runtime`](crate::runtime::Runtime) in effect when each is written ([`Redaction::Current`]):
/// [`Observability::install`](crate::Observability::install) makes it `config.redact`'s.
pub fn layers<S>(config: &LoggingConfig) -> io::Result<(Vec<BoxedLayer<S>>, LogGuards)>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let redactor = Redaction::Current;
    let mut guards = LogGuards::default();
    let default_outputs = [LogOutput::Stdout { level: None }];
    let outputs = if config.outputs.is_empty() {
        &default_outputs[..]
    } else {
        &config.outputs[..]
    };
    let mut layers = Vec::new();
    for output in outputs {
        let layer = match output {
            LogOutput::Stdout { level } => writer_layer(
                config.format,
                redactor.clone(),
                std::io::stdout,
                filter(level, &config.level)?,
            ),
            LogOutput::Stderr { level } => writer_layer(
                config.format,
                redactor.clone(),
                std::io::stderr,
                filter(level, &config.level)?,
            ),
            LogOutput::File {
                path,
                level,
                rotation,
            } => {
                let appender = file_appender(path, rotation)?;
                // Lines gather and a thread of its own writes them in batches (see `batch`).
                let (writer, guard) = batch::BatchWriter::start(appender)?;
                guards.0.push(guard);
                writer_layer(
                    config.format,
                    redactor.clone(),
                    writer,
                    filter(level, &config.level)?,
                )
            }
            LogOutput::Loki { .. } => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "log output `loki` is not built in: ship the JSON lines of stdout or a file with an agent",
                ));
            }
        };
        layers.push(layer);
    }
    Ok((layers, guards))
}

fn filter(level: &Option<String>, default: &str) -> io::Result<EnvFilter> {
    if let Ok(filter) = EnvFilter::try_from_default_env() {
        return Ok(filter);
    }
    let directive = level.as_deref().unwrap_or(default);
    EnvFilter::try_new(directive).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid log level `{directive}`: {e}"),
        )
    })
}

fn file_appender(path: &std::path::Path, rotation: &FileRotation) -> io::Result<RollingFile> {
    RollingFile::open(
        path,
        RollingPolicy {
            max_bytes: rotation.max_size_mb.clamp(1, 102_400) * 1024 * 1024,
            max_files: rotation.max_files,
            compress: rotation.compress,
            retention: None,
            private: false,
        },
    )
}

/// A formatting layer writing to `writer` in `format`, redacting with `redactor`, filtered by
/// `filter`.
pub fn writer_layer<S, W>(
    format: LogFormat,
    redactor: impl Into<Redaction>,
    writer: W,
    filter: EnvFilter,
) -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let redactor = redactor.into();
    let (events, fields) = match format {
        LogFormat::Json => (
            EventFormat::json(redactor.clone()),
            RedactedFields::json(redactor),
        ),
        LogFormat::Pretty => (
            EventFormat::pretty(redactor.clone()),
            RedactedFields::text(redactor),
        ),
        LogFormat::Compact => (
            EventFormat::compact(redactor.clone()),
            RedactedFields::text(redactor),
        ),
    };
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .event_format(events)
        .fmt_fields(fields)
        .with_filter(filter)
        .boxed()
}
