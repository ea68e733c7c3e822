//! The aggregator's configuration file: the runtime's `observability:` section and a
//! `backends:` section naming the MCP servers to front.
//!
//! ```yaml
//! backends:
//!   - name: everything            # [a-z0-9_-], unique
//!     transport: stdio            # or streamable_http
//!     command: node
//!     args: [server.js, stdio]
//!     env: { LOG_LEVEL: info }    # added to the aggregator's environment
//!     cwd: /srv/mcp               # optional
//!     timeout_seconds: 30         # per call; default 30, at most 3600
//!     prefix: ""                  # default `{name}_` with more than one backend, none with one
//!   - name: remote
//!     transport: streamable_http
//!     url: http://127.0.0.1:3001/mcp
//!     headers:
//!       Authorization: { env: REMOTE_TOKEN }   # or { file: /run/secrets/token }, or a literal
//! cache:                          # the tool-result cache, private to each MCP session
//!   ttl_seconds: 30               # 0 .. 86400
//!   max_entries: 4096             # 0 turns the cache off
//!   max_bytes: 16777216
//!   tools: [everything_get-sum]   # cached even without a read-only or idempotent annotation
//! ```
//!
//! Without a `backends:` section the aggregator starts its two built-in demo backends. Errors
//! name the file, the key path and the value (header values from `env`/`file` are never shown).

use crate::cache::CacheLimits;
use only1mcp_obs::ObservabilityConfig;
use only1mcp_obs::config::{ConfigError, value_at};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    #[serde(default)]
    observability: Option<serde_norway::Value>,
    #[serde(default)]
    backends: Option<Vec<Entry>>,
    #[serde(default)]
    cache: CacheSection,
}

/// `cache:` as written: the tool-result cache's bounds, and tools cached whatever their
/// annotations say.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CacheSection {
    ttl_seconds: u64,
    max_entries: usize,
    max_bytes: usize,
    tools: Vec<String>,
}

impl Default for CacheSection {
    fn default() -> Self {
        let d = CacheLimits::default();
        CacheSection {
            ttl_seconds: d.ttl.as_secs(),
            max_entries: d.max_entries,
            max_bytes: d.max_bytes,
            tools: Vec::new(),
        }
    }
}

/// The checked `cache:` section.
fn check_cache(cache: CacheSection, text: &str, path: &Path) -> Result<CacheLimits, ConfigError> {
    let checks: [(&str, u64, u64, u64); 3] = [
        ("cache.ttl_seconds", cache.ttl_seconds, 0, 86_400),
        ("cache.max_entries", cache.max_entries as u64, 0, 1_000_000),
        ("cache.max_bytes", cache.max_bytes as u64, 0, 1 << 30),
    ];
    for (key, value, min, max) in checks {
        if !(min..=max).contains(&value) {
            let shown = value_at(text, key).unwrap_or(value.to_string());
            return Err(ConfigError::file(
                path,
                key,
                &shown,
                &format!("expected {min} to {max}"),
            ));
        }
    }
    Ok(CacheLimits {
        ttl: Duration::from_secs(cache.ttl_seconds),
        max_entries: cache.max_entries,
        max_bytes: cache.max_bytes,
        always: cache.tools.into_iter().collect(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    StreamableHttp,
    Stdio,
}

/// One `backends[i]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    transport: Kind,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, Secret>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    timeout_seconds: Option<f64>,
    prefix: Option<String>,
}

/// A header value: literal, or read from an environment variable or a file.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Secret {
    Literal(String),
    Env(EnvRef),
    File(FileRef),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRef {
    env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRef {
    file: PathBuf,
}

/// How the aggregator reaches a backend.
#[derive(Clone)]
pub(crate) enum Transport {
    /// A built-in demo backend: a child process serving Streamable HTTP at `url`.
    Demo { url: String },
    /// A Streamable HTTP endpoint, with extra headers (credentials: never logged).
    Http {
        url: String,
        headers: HashMap<String, String>,
    },
    /// A child process speaking MCP on its stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Demo { url } => write!(f, "demo {url}"),
            // Header names only: their values may be tokens.
            Transport::Http { url, headers } => {
                write!(f, "streamable_http {url} headers {:?}", headers.keys())
            }
            Transport::Stdio { command, args, .. } => write!(f, "stdio {command} {args:?}"),
        }
    }
}

/// A checked backend.
#[derive(Debug, Clone)]
pub(crate) struct BackendConfig {
    pub(crate) name: String,
    pub(crate) transport: Transport,
    pub(crate) timeout: Duration,
    /// Put before its tool and prompt names; empty: none.
    pub(crate) prefix: String,
}

/// A loaded file: the runtime's configuration (`None`: the section is absent) and the backends
/// (`None`: the built-in demo backends).
#[derive(Debug)]
pub(crate) struct AggregatorConfig {
    pub(crate) observability: Option<ObservabilityConfig>,
    pub(crate) backends: Option<Vec<BackendConfig>>,
    /// The tool-result cache.
    pub(crate) cache: CacheLimits,
}

/// Reads and checks `path`.
pub(crate) fn load(path: &Path) -> Result<AggregatorConfig, ConfigError> {
    parse(&only1mcp_obs::config::read_file(path)?, path)
}

/// Parses and checks YAML text; `path` names its source in errors.
pub(crate) fn parse(text: &str, path: &Path) -> Result<AggregatorConfig, ConfigError> {
    let deserializer = serde_norway::Deserializer::from_str(text);
    let layout: Layout = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let value = value_at(text, &key).unwrap_or_default();
        ConfigError::file(path, &key, &value, &e.inner().to_string())
    })?;
    let observability = match layout.observability {
        Some(section) => {
            // The runtime parses its own section, so its errors keep their key paths.
            let mut only = serde_norway::Mapping::new();
            only.insert("observability".into(), section);
            let own = serde_norway::to_string(&only).unwrap_or_default();
            Some(ObservabilityConfig::from_yaml(&own, path)?)
        }
        None => None,
    };
    let backends = match layout.backends {
        Some(entries) => Some(check_backends(entries, text, path)?),
        None => None,
    };
    let cache = check_cache(layout.cache, text, path)?;
    Ok(AggregatorConfig {
        observability,
        backends,
        cache,
    })
}

fn check_backends(
    entries: Vec<Entry>,
    text: &str,
    path: &Path,
) -> Result<Vec<BackendConfig>, ConfigError> {
    let several = entries.len() > 1;
    let mut seen = HashSet::new();
    let mut backends = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let at = |field: &str, message: String| {
            let key = format!("backends[{i}].{field}");
            // A header value may be a token, even when written in the file.
            let value = match field.starts_with("headers") {
                true => "(not shown)".to_owned(),
                false => value_at(text, &key).unwrap_or_default(),
            };
            ConfigError::file(path, &key, &value, &message)
        };
        check_name(&entry.name).map_err(|m| at("name", m))?;
        // Names are unique: they route calls and label metrics.
        if !seen.insert(entry.name.clone()) {
            return Err(at(
                "name",
                "another backend has this name; names are unique".into(),
            ));
        }
        let timeout = check_timeout(entry.timeout_seconds).map_err(|m| at("timeout_seconds", m))?;
        let prefix = match &entry.prefix {
            Some(prefix) => {
                check_prefix(prefix).map_err(|m| at("prefix", m))?;
                prefix.clone()
            }
            None if several => format!("{}_", entry.name),
            None => String::new(),
        };
        let name = entry.name.clone();
        let transport = check_transport(entry).map_err(|(field, m)| at(&field, m))?;
        backends.push(BackendConfig {
            name,
            transport,
            timeout,
            prefix,
        });
    }
    Ok(backends)
}

/// A name is 1 to 32 of `[a-z0-9_-]`: it becomes a label value and a tool-name prefix.
fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    match ok {
        true => Ok(()),
        false => Err("1 to 32 characters of a-z, 0-9, `_` and `-`".into()),
    }
}

/// A prefix is at most 32 of `[A-Za-z0-9_.-]`, characters MCP allows in tool names.
fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    match ok {
        true => Ok(()),
        false => Err("at most 32 characters of A-Z, a-z, 0-9, `_`, `.` and `-`".into()),
    }
}

/// The per-call timeout: above 0, at most an hour; 30 s when absent.
fn check_timeout(seconds: Option<f64>) -> Result<Duration, String> {
    let Some(seconds) = seconds else {
        return Ok(Duration::from_secs(30));
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|t| !t.is_zero() && t.as_secs() <= 3600)
        .ok_or_else(|| "seconds above 0, at most 3600".into())
}

/// Each transport takes its own fields and refuses the other's.
fn check_transport(entry: Entry) -> Result<Transport, (String, String)> {
    let refuse = |field: &str, present: bool, kind: &str| match present {
        true => Err((field.to_owned(), format!("not a field of a {kind} backend"))),
        false => Ok(()),
    };
    match entry.transport {
        Kind::StreamableHttp => {
            refuse("command", entry.command.is_some(), "streamable_http")?;
            refuse("args", !entry.args.is_empty(), "streamable_http")?;
            refuse("env", !entry.env.is_empty(), "streamable_http")?;
            refuse("cwd", entry.cwd.is_some(), "streamable_http")?;
            let url = entry.url.ok_or((
                "url".to_owned(),
                "a streamable_http backend needs a url".to_owned(),
            ))?;
            check_url(&url).map_err(|m| ("url".to_owned(), m))?;
            let mut headers = HashMap::new();
            for (name, secret) in entry.headers {
                let value = resolve(&name, secret).map_err(|m| (format!("headers.{name}"), m))?;
                headers.insert(name, value);
            }
            Ok(Transport::Http { url, headers })
        }
        Kind::Stdio => {
            refuse("url", entry.url.is_some(), "stdio")?;
            refuse("headers", !entry.headers.is_empty(), "stdio")?;
            let command = entry.command.filter(|c| !c.is_empty()).ok_or((
                "command".to_owned(),
                "a stdio backend needs a command".to_owned(),
            ))?;
            Ok(Transport::Stdio {
                command,
                args: entry.args,
                env: entry.env,
                cwd: entry.cwd,
            })
        }
    }
}

/// An `http` or `https` URL with a host.
fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if ["http", "https"].contains(&u.scheme()) && u.host_str().is_some() => Ok(()),
        Ok(_) => Err("an http:// or https:// URL with a host".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

/// A header's value, read now; errors never quote a secret.
fn resolve(name: &str, secret: Secret) -> Result<String, String> {
    if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not an HTTP header name"));
    }
    let value = match secret {
        Secret::Literal(value) => value,
        Secret::Env(EnvRef { env }) => std::env::var(&env)
            .map_err(|_| format!("environment variable {env} is not set (or not UTF-8)"))?,
        Secret::File(FileRef { file }) => std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
    };
    match axum::http::HeaderValue::from_str(&value) {
        Ok(_) => Ok(value),
        Err(_) => Err("the value is not a valid HTTP header value".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(yaml: &str) -> ConfigError {
        parse(yaml, Path::new("agg.yaml")).expect_err(yaml)
    }

    #[test]
    fn no_backends_section_means_the_demo_backends() {
        let config = parse("observability: {}\n", Path::new("agg.yaml")).expect("valid");
        assert!(config.backends.is_none());
    }

    #[test]
    fn prefixes_default_to_the_name_with_several_backends() {
        let yaml = "backends:\n  - { name: a, transport: stdio, command: x }\n  - { name: b, transport: stdio, command: y, prefix: '' }\n";
        let backends = parse(yaml, Path::new("agg.yaml"))
            .expect("valid")
            .backends
            .expect("backends");
        assert_eq!(backends[0].prefix, "a_");
        assert_eq!(backends[1].prefix, "");
        let one = "backends:\n  - { name: a, transport: stdio, command: x }\n";
        let backends = parse(one, Path::new("agg.yaml")).expect("valid").backends;
        assert_eq!(backends.expect("backends")[0].prefix, "");
    }

    #[test]
    fn a_secret_from_a_missing_variable_is_named_not_shown() {
        let e = error(
            "backends:\n  - name: r\n    transport: streamable_http\n    url: http://127.0.0.1:1/mcp\n    headers:\n      Authorization: { env: ONLY1MCP_TEST_UNSET_TOKEN }\n",
        );
        assert_eq!(e.key, "backends[0].headers.Authorization");
        assert!(e.message.contains("ONLY1MCP_TEST_UNSET_TOKEN"), "{e}");
    }

    #[test]
    fn the_cache_section_is_range_checked_and_names_tools() {
        let path = Path::new("aggregator.yaml");
        let ok = parse("cache:\n  ttl_seconds: 5\n  tools: [a_get]\n", path).expect("valid");
        assert_eq!(ok.cache.ttl, Duration::from_secs(5));
        assert!(ok.cache.always.contains("a_get"));
        let err = parse("cache:\n  max_bytes: 99999999999\n", path).expect_err("too big");
        assert_eq!(err.key, "cache.max_bytes");
        assert_eq!(err.value, "99999999999");
    }
}
