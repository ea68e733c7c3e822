//! Configuration errors: every one names where the value came from (file or environment
//! variable), the key path, and the bad value.

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
