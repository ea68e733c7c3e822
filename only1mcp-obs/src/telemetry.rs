//! One call installs everything from one configuration: tracing (OTLP), logging, and `/metrics`.

use crate::config::ConfigError;
use crate::log::{LogGuards, LoggingConfig};
use crate::metrics::MetricsConfig;
#[cfg(feature = "server")]
use crate::metrics::MetricsServer;
use crate::metrics::otlp::MetricsPusher;
use crate::runtime::Runtime;
use crate::trace::{TracingConfig, TracingHandle};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The `observability` section of the configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservabilityConfig {
    /// `/metrics`.
    pub metrics: MetricsConfig,
    /// Spans and their export.
    pub tracing: TracingConfig,
    /// Log lines.
    pub logging: LoggingConfig,
    /// The audit log.
    pub audit: crate::audit::AuditConfig,
    /// Health endpoints.
    pub health: crate::health::HealthConfig,
    /// Profiling endpoints: not built in; only `enabled: false` is accepted.
    pub profiling: ProfilingConfig,
}

/// `observability.profiling`, accepted for the design's reference file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilingConfig {
    /// Must be false.
    pub enabled: bool,
    /// `pprof`.
    #[serde(rename = "type")]
    pub kind: Option<ProfilingKind>,
    /// Port.
    pub port: Option<u16>,
    /// Path.
    pub path: Option<String>,
}

/// `observability.profiling.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfilingKind {
    /// Go's pprof format.
    Pprof,
}

impl ObservabilityConfig {
    /// Checks every value; the error's key is relative to `observability`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_metrics()?;
        self.metrics.otlp.validate()?;
        self.tracing.validate()?;
        self.logging.validate()?;
        self.health.validate()?;
        self.validate_audit()?;
        if self.profiling.enabled {
            return Err(ConfigError::value(
                "profiling.enabled",
                "true",
                "profiling endpoints are not built in; use `perf` or `cargo flamegraph`",
            ));
        }
        Ok(())
    }

    /// The `metrics` section, but for its `otlp` part.
    fn validate_metrics(&self) -> Result<(), ConfigError> {
        let m = &self.metrics;
        crate::health::check_route(&m.path)
            .map_err(|why| ConfigError::value("metrics.path", &m.path, why))?;
        if self.health.paths().contains(&m.path.as_str()) {
            return Err(ConfigError::value(
                "metrics.path",
                &m.path,
                "a path no health probe uses (they may share one server)",
            ));
        }
        if m.detailed.per_user {
            return Err(ConfigError::value(
                "metrics.detailed.per_user",
                "true",
                "a label per user is unbounded cardinality; put user ids on spans and logs instead",
            ));
        }
        if let Some(buckets) = &m.latency_buckets {
            return Err(ConfigError::value(
                "metrics.latency_buckets",
                &format!("{buckets:?}"),
                "not supported: a histogram's buckets are part of its declaration \
                 (`buckets:` in `metrics!`), so dashboards and alerts always match them",
            ));
        }
        Ok(())
    }

    /// The `audit.output` section: its numbers within their ranges, its path a file path.
    fn validate_audit(&self) -> Result<(), ConfigError> {
        let audit = &self.audit.output;
        let ranges: [(&str, u64, u64, u64, &str); 4] = [
            (
                "audit.output.retention_days",
                audit.retention_days,
                1,
                36_500,
                ": keep audit records at least one day",
            ),
            (
                "audit.output.max_size_mb",
                audit.max_size_mb,
                1,
                102_400,
                "",
            ),
            (
                "audit.output.max_files",
                audit.max_files as u64,
                1,
                10_000,
                ": 0 would delete the live file at the first rotation",
            ),
            (
                "audit.output.fsync_interval_ms",
                audit.fsync_interval_ms,
                1,
                60_000,
                "",
            ),
        ];
        for (key, value, min, max, why) in ranges {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::value(
                    key,
                    &value.to_string(),
                    &format!("expected {min} to {max}{why}"),
                ));
            }
        }
        if audit.path.as_os_str().is_empty() || audit.path.is_dir() {
            return Err(ConfigError::value(
                "audit.output.path",
                &audit.path.display().to_string(),
                "a file path (its directory is created `0700`, the file `0600`)",
            ));
        }
        Ok(())
    }
}

/// A configuration file: everything under its `observability` key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    observability: ObservabilityConfig,
}

impl ObservabilityConfig {
    /// Reads and validates a YAML file with an `observability` section (the layout of the
    /// design's `observability.yaml`). Errors name the file, the key path and the value.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("obs-config-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("observability.yaml");
    /// std::fs::write(&path, "observability:\n  tracing:\n    sampling:\n      rate: 1.5\n").unwrap();
    /// let err = only1mcp_obs::ObservabilityConfig::from_file(&path).unwrap_err();
    /// assert_eq!(err.key, "observability.tracing.sampling.rate");
    /// assert_eq!(err.value, "1.5");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        Self::from_yaml(&crate::config::read_file(path)?, path)
    }

    /// Parses and validates YAML text; `path` names its source in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let deserializer = serde_norway::Deserializer::from_str(text);
        let file: ConfigFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            let value = crate::config::value_at(text, &key).unwrap_or_default();
            ConfigError::file(path, &key, &value, &e.inner().to_string())
        })?;
        let config = file.observability;
        config.validate().map_err(|e| {
            let key = format!("observability.{}", e.key);
            let value = crate::config::value_at(text, &key).unwrap_or(e.value);
            ConfigError::file(path, &key, &value, &e.message)
        })?;
        Ok(config)
    }
}

/// A configuration with the environment's overrides applied, once, and every value checked:
/// what [`Observability::install`] runs with and [`Observability::config`] shows. It reads as the
/// [`ObservabilityConfig`] it holds.
///
/// ```
/// use only1mcp_obs::ObservabilityConfig;
/// use only1mcp_obs::trace::OtlpProtocol;
///
/// let env = |k: &str| match k {
///     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/protobuf".to_owned()),
///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://127.0.0.1:4318".to_owned()),
///     _ => None,
/// };
/// let resolved = ObservabilityConfig::default().resolve(env).unwrap();
/// assert_eq!(resolved.tracing.exporter.protocol, OtlpProtocol::HttpProtobuf);
/// // The URL spans are sent to, as the exporter uses it.
/// assert_eq!(
///     resolved.tracing.exporter.endpoint.as_deref(),
///     Some("http://127.0.0.1:4318/v1/traces")
/// );
/// // A bad variable is named, with its value.
/// let bad = |k: &str| (k == "OTEL_TRACES_SAMPLER_ARG").then(|| "2".to_owned());
/// let err = ObservabilityConfig::default().resolve(bad).unwrap_err();
/// assert_eq!((err.key.as_str(), err.value.as_str()), ("OTEL_TRACES_SAMPLER_ARG", "2"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved(ObservabilityConfig);

impl std::ops::Deref for Resolved {
    type Target = ObservabilityConfig;

    fn deref(&self) -> &ObservabilityConfig {
        &self.0
    }
}

impl Resolved {
    /// The configuration it holds.
    pub fn into_inner(self) -> ObservabilityConfig {
        self.0
    }
}

impl ObservabilityConfig {
    /// Applies the `OTEL_*` variables read through `env` (pass `|k| std::env::var(k).ok()`),
    /// writes the OTLP trace endpoint as the exporter uses it (an HTTP endpoint without a path
    /// gets `/v1/traces`), and checks every value. Errors name the variable or key and the value.
    pub fn resolve(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Resolved, ConfigError> {
        self.tracing.apply_env(&env)?;
        self.metrics.otlp.apply_env(&env)?;
        self.tracing.exporter.endpoint = self.tracing.exporter.url();
        self.validate()?;
        Ok(Resolved(self))
    }
}

/// Everything installed; [`Observability::shutdown`] flushes spans and log files.
#[derive(Debug)]
pub struct Observability {
    config: Resolved,
    tracing: Option<TracingHandle>,
    #[cfg(feature = "server")]
    metrics: Option<MetricsServer>,
    pusher: Option<MetricsPusher>,
    _logs: LogGuards,
}

impl Observability {
    /// Installs tracing and logging (the global `tracing` subscriber) from `config`, with the
    /// `OTEL_*` variables and `RUST_LOG` applied on top, and starts pushing metrics over OTLP
    /// when `metrics.otlp` names an endpoint. Does not serve `/metrics`: see
    /// [`Observability::start`].
    ///
    /// ```
    /// let obs = only1mcp_obs::Observability::install(Default::default()).unwrap();
    /// tracing::info!("ready");
    /// obs.shutdown_blocking(std::time::Duration::from_secs(1));
    /// ```
    pub fn install(config: ObservabilityConfig) -> Result<Self, ConfigError> {
        Self::install_resolved(config.resolve(|k| std::env::var(k).ok())?)
    }

    /// [`Observability::install`] of a configuration already resolved (see
    /// [`ObservabilityConfig::resolve`]): the environment is not read again.
    pub fn install_resolved(config: Resolved) -> Result<Self, ConfigError> {
        let mut tracing = crate::trace::build(&config.tracing)?;
        tracing.installed = true;
        // Everything instrumented code reads, replaced as one value.
        let mut runtime = Runtime::from_config(&config);
        if config.tracing.enabled {
            runtime = runtime.with_provider(tracing.provider());
            opentelemetry::global::set_tracer_provider(tracing.provider().clone());
        }
        Runtime::install(runtime.shared());
        #[allow(unused_mut)] // the bridge adds a layer
        let (mut layers, guards) = crate::log::layers(&config.logging)
            .map_err(|e| ConfigError::value("logging", &config.logging.level, &e.to_string()))?;
        #[cfg(feature = "tracing-bridge")]
        if config.tracing.enabled {
            use tracing_subscriber::Layer as _;
            layers.push(crate::trace::bridge::layer().boxed());
        }
        // A second install in one process keeps the first subscriber; spans and metrics still work.
        let _ = tracing_subscriber::registry().with(layers).try_init();
        let pusher = MetricsPusher::start(&config.metrics.otlp, &config.tracing)?;
        Ok(Observability {
            config,
            tracing: Some(tracing),
            #[cfg(feature = "server")]
            metrics: None,
            pusher,
            _logs: guards,
        })
    }

    /// [`Observability::install`], then serves `/metrics` when `config.metrics.enabled` (with
    /// the `server` feature).
    #[cfg(feature = "server")]
    pub async fn start(config: ObservabilityConfig) -> Result<Self, ConfigError> {
        let metrics_config = config.metrics.clone();
        let mut obs = Self::install(config)?;
        if metrics_config.enabled {
            let server = MetricsServer::bind(&metrics_config).await.map_err(|e| {
                let addr = format!("{}:{}", metrics_config.address, metrics_config.port);
                ConfigError::value("metrics.port", &addr, &e.to_string())
            })?;
            obs.metrics = Some(server);
        }
        Ok(obs)
    }

    /// The configuration in effect: the one given, with the `OTEL_*` variables applied (see
    /// [`ObservabilityConfig::resolve`]).
    ///
    /// ```
    /// let obs = only1mcp_obs::Observability::install(Default::default()).unwrap();
    /// match &obs.config().tracing.exporter.endpoint {
    ///     Some(endpoint) => println!("traces: exported over OTLP to {endpoint}"),
    ///     None => println!("traces: not exported"),
    /// }
    /// # obs.shutdown_blocking(std::time::Duration::from_secs(1));
    /// ```
    pub fn config(&self) -> &Resolved {
        &self.config
    }

    /// The `/metrics` server, when started.
    #[cfg(feature = "server")]
    pub fn metrics_server(&self) -> Option<&MetricsServer> {
        self.metrics.as_ref()
    }

    /// The tracing pipeline.
    pub fn tracing(&self) -> Option<&TracingHandle> {
        self.tracing.as_ref()
    }

    /// Flushes spans, pushes metrics one last time, stops `/metrics` and flushes log files, all
    /// within `timeout`: spans the collector has not taken by then are dropped (and counted),
    /// connections still open are closed.
    pub async fn shutdown(mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let pusher = self.pusher.take();
        let tracing = self.tracing.take();
        // Spans and metrics flush side by side, each within the same deadline.
        let flush = tokio::task::spawn_blocking(move || {
            let metrics = std::thread::spawn(move || pusher.map(|p| p.shutdown(timeout)));
            if let Some(tracing) = tracing {
                let _ = tracing.shutdown(timeout);
            }
            let _ = metrics.join();
        });
        let _ = tokio::time::timeout_at(deadline, flush).await;
        #[cfg(feature = "server")]
        if let Some(server) = self.metrics.take() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let _ = server.shutdown_within(left).await;
        }
    }

    /// [`Observability::shutdown`] for code outside an async runtime.
    pub fn shutdown_blocking(mut self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        if let Some(tracing) = self.tracing.take() {
            let _ = tracing.shutdown(timeout);
        }
        if let Some(pusher) = self.pusher.take() {
            let _ = pusher.shutdown(deadline.saturating_duration_since(std::time::Instant::now()));
        }
    }
}
