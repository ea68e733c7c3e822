//! Configuration errors: every one names where the value came from (file or environment
//! variable), the key path, and the bad value; and reading a YAML file so that its errors do.
//! The sections themselves live with what they configure; `ObservabilityConfig` gathers them.

use std::fmt;
use std::path::Path;

/// A bad configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where it came from: a file path, `environment variable OTEL_...`, or `runtime`.
    pub source: String,
    /// The key path, such as `observability.tracing.sampling.rate`.
    pub key: String,
    /// The value as written.
    pub value: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    /// A bad value in a file.
    pub fn file(path: &Path, key: &str, value: &str, message: &str) -> Self {
        ConfigError {
            source: path.display().to_string(),
            key: key.to_owned(),
            value: value.to_owned(),
            message: message.to_owned(),
        }
    }

    /// A bad environment variable.
    pub fn env(variable: &str, value: &str, message: &str) -> Self {
        ConfigError {
            source: format!("environment variable {variable}"),
            key: variable.to_owned(),
            value: value.to_owned(),
            message: message.to_owned(),
        }
    }

    /// A bad value found in configuration given as code (no file).
    pub fn value(key: &str, value: &str, message: &str) -> Self {
        ConfigError {
            source: "configuration".to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            message: message.to_owned(),
        }
    }

    /// A failure to apply a valid configuration (a thread that could not start, ...).
    pub fn runtime(key: &str, message: &str) -> Self {
        ConfigError {
            source: "runtime".to_owned(),
            key: key.to_owned(),
            value: String::new(),
            message: message.to_owned(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: `{}` = {:?}: {}",
            self.source, self.key, self.value, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// The value at a dotted key path (`observability.tracing.sampling.rate`, `a.b[2].c`) of a YAML
/// document, as written: what a [`ConfigError`] shows for an application's own sections too.
///
/// ```
/// let text = "backends:\n  - name: files\n    timeout_seconds: 0\n";
/// let shown = only1mcp_obs::config::value_at(text, "backends[0].timeout_seconds");
/// assert_eq!(shown.as_deref(), Some("0"));
/// ```
pub fn value_at(text: &str, path: &str) -> Option<String> {
    let mut node: serde_norway::Value = serde_norway::from_str(text).ok()?;
    for segment in path.split('.') {
        let (key, index) = match segment.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        if !key.is_empty() {
            node = node.get(key)?.clone();
        }
        if let Some(i) = index {
            node = node.get(i)?.clone();
        }
    }
    Some(match node {
        serde_norway::Value::String(s) => s,
        other => serde_norway::to_string(&other).ok()?.trim_end().to_owned(),
    })
}

/// The text of the configuration file `path`, or an error that names it.
pub fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::file(
            path,
            "",
            "",
            &format!("cannot read the configuration file: {e}"),
        )
    })
}
