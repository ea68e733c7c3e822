//! Logging: `tracing` events as JSON lines that carry the OpenTelemetry `trace_id` and `span_id`
//! (so a log line is found from a trace and back), pretty and compact formats for development,
//! `RUST_LOG`, file output with rotation, and secret redaction before any output.

mod format;
mod redact;

pub use format::{JsonFormat, RedactedFields, TextFormat};
pub use redact::{DEFAULT_PATTERNS, REDACTED, Redactor};

use serde::Deserialize;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::Subscriber;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
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

/// How often a log file rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationPolicy {
    /// A new file every minute (for tests).
    Minutely,
    /// A new file every hour.
    Hourly,
    /// A new file every day.
    #[default]
    Daily,
    /// One file, never rotated.
    Never,
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
    /// A file, rotated by time; written by a background thread.
    File {
        /// The log file; rotated files get a date suffix.
        path: PathBuf,
        /// Filter for this output.
        #[serde(default)]
        level: Option<String>,
        /// Rotation period.
        #[serde(default)]
        rotation: RotationPolicy,
        /// Rotated files kept (all when absent).
        #[serde(default)]
        max_files: Option<usize>,
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
pub struct LogGuards(Vec<WorkerGuard>);

/// A boxed layer, as [`layers`] returns them.
pub type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// One formatting layer per configured output, each with its filter. `RUST_LOG`, when set,
/// overrides every configured level.
pub fn layers<S>(config: &LoggingConfig) -> io::Result<(Vec<BoxedLayer<S>>, LogGuards)>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let redactor = Arc::new(config.redact.redactor());
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
                max_files,
            } => {
                let appender = file_appender(path, *rotation, *max_files)?;
                let (writer, guard) = tracing_appender::non_blocking(appender);
                guards.0.push(guard);
                writer_layer(
                    config.format,
                    redactor.clone(),
                    writer,
                    filter(level, &config.level)?,
                )
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

fn file_appender(
    path: &std::path::Path,
    rotation: RotationPolicy,
    max_files: Option<usize>,
) -> io::Result<RollingFileAppender> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let prefix = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("log file path has no file name: {}", path.display()),
        )
    })?;
    let rotation = match rotation {
        RotationPolicy::Minutely => Rotation::MINUTELY,
        RotationPolicy::Hourly => Rotation::HOURLY,
        RotationPolicy::Daily => Rotation::DAILY,
        RotationPolicy::Never => Rotation::NEVER,
    };
    let mut builder = RollingFileAppender::builder()
        .rotation(rotation)
        .filename_prefix(prefix);
    if let Some(n) = max_files {
        builder = builder.max_log_files(n);
    }
    builder
        .build(directory)
        .map_err(|e| io::Error::other(format!("cannot open log file {}: {e}", path.display())))
}

/// A formatting layer writing to `writer` in `format`, with redaction, filtered by `filter`.
pub fn writer_layer<S, W>(
    format: LogFormat,
    redactor: Arc<Redactor>,
    writer: W,
    filter: EnvFilter,
) -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Json => base
            .event_format(JsonFormat::new(redactor.clone()))
            .fmt_fields(RedactedFields::json(redactor))
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => base
            .event_format(TextFormat::pretty(redactor.clone()))
            .fmt_fields(RedactedFields::text(redactor))
            .with_filter(filter)
            .boxed(),
        LogFormat::Compact => base
            .event_format(TextFormat::compact(redactor.clone()))
            .fmt_fields(RedactedFields::text(redactor))
            .with_filter(filter)
            .boxed(),
    }
}
