//! The `observability.tracing` section, with the standard `OTEL_*` variables on top.

use super::processor::BatchSettings;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use super::processor::ExportDriver;
use super::sampler::{RuleSampler, ratio};
use crate::config::ConfigError;
use opentelemetry::KeyValue;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::Sampler;
use serde::Deserialize;
use std::time::Duration;

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (port 4317 by convention).
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (port 4318, path `/v1/traces`).
    #[serde(rename = "http/protobuf", alias = "http_protobuf", alias = "http")]
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The cargo feature this build needs for the protocol, when it was built without it.
    pub fn missing_feature(self) -> Option<&'static str> {
        match self {
            OtlpProtocol::Grpc if !cfg!(feature = "otlp-grpc") => Some("otlp-grpc"),
            OtlpProtocol::HttpProtobuf if !cfg!(feature = "otlp-http") => Some("otlp-http"),
            _ => None,
        }
    }

    /// A configuration error for `key` when an endpoint is set and this build cannot speak the
    /// protocol.
    pub(crate) fn check_built(self, key: &str, endpoint: Option<&str>) -> Result<(), ConfigError> {
        match (endpoint, self.missing_feature()) {
            (Some(_), Some(feature)) => Err(ConfigError::value(
                key,
                &format!("{self:?}"),
                &format!("this build has no OTLP over it: enable the cargo feature `{feature}`"),
            )),
            _ => Ok(()),
        }
    }

    /// The protocol an `OTEL_EXPORTER_OTLP_*PROTOCOL` variable names.
    pub(crate) fn from_env(var: &str, value: &str) -> Result<OtlpProtocol, ConfigError> {
        match value {
            "grpc" => Ok(OtlpProtocol::Grpc),
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            _ => Err(ConfigError::env(
                var,
                value,
                "expected `grpc` or `http/protobuf`",
            )),
        }
    }
}

/// Where spans are exported.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExporterConfig {
    /// The collector; nothing is exported when absent.
    pub endpoint: Option<String>,
    /// gRPC or HTTP/protobuf.
    pub protocol: OtlpProtocol,
    /// Longest an export may take.
    pub timeout_seconds: f64,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            endpoint: None,
            protocol: OtlpProtocol::Grpc,
            timeout_seconds: 10.0,
        }
    }
}

impl ExporterConfig {
    /// The URL spans are sent to: the endpoint, with `/v1/traces` added to an HTTP/protobuf
    /// endpoint that has no path.
    pub fn url(&self) -> Option<String> {
        let endpoint = self.endpoint.as_deref()?;
        Some(match self.protocol {
            OtlpProtocol::HttpProtobuf => http_traces_url(endpoint),
            OtlpProtocol::Grpc => endpoint.to_owned(),
        })
    }

    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn timeout(&self) -> Duration {
        Duration::try_from_secs_f64(self.timeout_seconds).unwrap_or(Duration::from_secs(10))
    }
}

/// How root spans are sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplingStrategy {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// `rate` of traces, ignoring the parent's decision.
    Ratio,
    /// The parent's decision; `rate` of new traces.
    #[default]
    ParentBased,
    /// The parent's decision; new traces by the first matching rule's rate, else `rate`.
    Adaptive,
}

/// A per-operation rate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingRule {
    /// An MCP method (`tools/call`) or span name (`cache.lookup`).
    pub operation: String,
    /// Fraction sampled, 0 to 1.
    pub rate: f64,
}

/// The sampler.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    /// The strategy.
    pub strategy: SamplingStrategy,
    /// Fraction of new traces sampled (the default rate for `adaptive`).
    pub rate: f64,
    /// Per-operation rates for `adaptive`, first match wins.
    pub adaptive_rules: Vec<SamplingRule>,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            strategy: SamplingStrategy::ParentBased,
            rate: 1.0,
            adaptive_rules: Vec::new(),
        }
    }
}

impl SamplingConfig {
    /// The seed design's production rules: 5% of `tools/call`, 0.1% of cache lookups, 1% else.
    pub fn seed_adaptive() -> Self {
        SamplingConfig {
            strategy: SamplingStrategy::Adaptive,
            rate: 0.01,
            adaptive_rules: vec![
                SamplingRule {
                    operation: "tools/call".to_owned(),
                    rate: 0.05,
                },
                SamplingRule {
                    operation: "cache.lookup".to_owned(),
                    rate: 0.001,
                },
            ],
        }
    }

    /// The SDK sampler.
    pub fn sampler(&self) -> Sampler {
        match self.strategy {
            SamplingStrategy::AlwaysOn => Sampler::AlwaysOn,
            SamplingStrategy::AlwaysOff => Sampler::AlwaysOff,
            SamplingStrategy::Ratio => ratio(self.rate),
            SamplingStrategy::ParentBased => Sampler::ParentBased(Box::new(ratio(self.rate))),
            SamplingStrategy::Adaptive => {
                let rules = self
                    .adaptive_rules
                    .iter()
                    .map(|r| (r.operation.clone(), r.rate));
                Sampler::ParentBased(Box::new(RuleSampler::new(rules, self.rate)))
            }
        }
    }
}

/// Context propagation formats.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PropagationConfig {
    /// `tracecontext` (required) and `baggage` (W3C).
    pub formats: Vec<PropagationFormat>,
}

/// A context propagation format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropagationFormat {
    /// W3C `traceparent` and `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
}

impl PropagationConfig {
    /// Whether `baggage` is carried.
    pub fn baggage(&self) -> bool {
        self.formats.contains(&PropagationFormat::Baggage)
    }
}

impl Default for PropagationConfig {
    fn default() -> Self {
        PropagationConfig {
            formats: vec![PropagationFormat::TraceContext, PropagationFormat::Baggage],
        }
    }
}

/// Batch export sizes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Spans waiting for export; more are dropped and counted.
    pub max_queue_size: usize,
    /// Most bytes of span data waiting for export (1 MiB .. 1 GiB); more are dropped and counted.
    pub max_queue_bytes: usize,
    /// Spans per export request.
    pub max_export_batch_size: usize,
    /// Longest a span waits before its batch is sent, in milliseconds.
    pub scheduled_delay_ms: u64,
}

impl Default for BatchConfig {
    fn default() -> Self {
        let d = BatchSettings::default();
        BatchConfig {
            max_queue_size: d.max_queue_size,
            max_queue_bytes: d.max_queue_bytes,
            max_export_batch_size: d.max_export_batch_size,
            scheduled_delay_ms: d.scheduled_delay.as_millis() as u64,
        }
    }
}

/// The trace backend kind; only OTLP.
/// `tracing.limits`: what one span may carry. Names and values come from clients (tool names,
/// request ids), so they are cut to a length; the counts are the design's span limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanLimitsConfig {
    /// Longest string attribute value and span-name target, in bytes (16 .. 65536); longer
    /// ones are cut at a character boundary and end with `…`.
    pub max_attribute_length: usize,
    /// Most attributes per span (8 .. 1024).
    pub max_attributes_per_span: u32,
    /// Most events per span (0 .. 1024).
    pub max_events_per_span: u32,
}

impl Default for SpanLimitsConfig {
    fn default() -> Self {
        SpanLimitsConfig {
            max_attribute_length: 1024,
            max_attributes_per_span: 32,
            max_events_per_span: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceBackend {
    /// OpenTelemetry protocol.
    #[default]
    Otlp,
}

/// The `observability.tracing` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// Open spans at all.
    pub enabled: bool,
    /// Always `otlp`.
    #[serde(rename = "type")]
    pub backend: TraceBackend,
    /// `service.name`.
    pub service_name: String,
    /// `service.version`.
    pub service_version: String,
    /// `deployment.environment`.
    pub environment: String,
    /// `service.namespace`.
    pub namespace: String,
    /// Where spans go.
    pub exporter: ExporterConfig,
    /// Which spans are kept.
    pub sampling: SamplingConfig,
    /// Propagation formats.
    pub propagation: PropagationConfig,
    /// Batch export sizes.
    pub batch: BatchConfig,
    /// What one span may carry.
    pub limits: SpanLimitsConfig,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            enabled: true,
            backend: TraceBackend::Otlp,
            service_name: "only1mcp".to_owned(),
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            environment: "development".to_owned(),
            namespace: "mcp-aggregator".to_owned(),
            exporter: ExporterConfig::default(),
            sampling: SamplingConfig::default(),
            propagation: PropagationConfig::default(),
            batch: BatchConfig::default(),
            limits: SpanLimitsConfig::default(),
        }
    }
}

impl SamplingConfig {
    /// `OTEL_TRACES_SAMPLER_ARG` and `OTEL_TRACES_SAMPLER` (the strategy may set the rate).
    fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("OTEL_TRACES_SAMPLER_ARG") {
            let rate: f64 = v
                .parse()
                .ok()
                .filter(|r: &f64| (0.0..=1.0).contains(r))
                .ok_or_else(|| {
                    ConfigError::env(
                        "OTEL_TRACES_SAMPLER_ARG",
                        &v,
                        "expected a number from 0 to 1",
                    )
                })?;
            self.rate = rate;
        }
        if let Some(v) = get("OTEL_TRACES_SAMPLER") {
            let (strategy, rate) = match v.as_str() {
                "always_on" => (SamplingStrategy::AlwaysOn, None),
                "always_off" => (SamplingStrategy::AlwaysOff, None),
                "traceidratio" => (SamplingStrategy::Ratio, None),
                "parentbased_always_on" => (SamplingStrategy::ParentBased, Some(1.0)),
                "parentbased_always_off" => (SamplingStrategy::ParentBased, Some(0.0)),
                "parentbased_traceidratio" => (SamplingStrategy::ParentBased, None),
                _ => {
                    return Err(ConfigError::env(
                        "OTEL_TRACES_SAMPLER",
                        &v,
                        "expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
                    ));
                }
            };
            self.strategy = strategy;
            if let Some(rate) = rate {
                self.rate = rate;
            }
        }
        Ok(())
    }
}

impl TracingConfig {
    /// Applies `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT`,
    /// `_PROTOCOL`, `_TIMEOUT` (ms), `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, read
    /// through `env` (pass `|k| std::env::var(k).ok()`).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("OTEL_SDK_DISABLED") {
            self.enabled = !parse_bool("OTEL_SDK_DISABLED", &v)?;
        }
        if let Some(v) = get("OTEL_SERVICE_NAME") {
            self.service_name = v;
        }
        for var in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ] {
            if let Some(v) = get(var) {
                self.exporter.protocol = OtlpProtocol::from_env(var, &v)?;
            }
        }
        if let Some(v) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
            // The generic endpoint is a base URL: HTTP exports go to its `/v1/traces`.
            self.exporter.endpoint = Some(match self.exporter.protocol {
                OtlpProtocol::HttpProtobuf => format!("{}/v1/traces", v.trim_end_matches('/')),
                OtlpProtocol::Grpc => v,
            });
        }
        if let Some(v) = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            self.exporter.endpoint = Some(v);
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        ] {
            if let Some(v) = get(var) {
                let ms: u64 = v
                    .parse()
                    .map_err(|_| ConfigError::env(var, &v, "expected a timeout in milliseconds"))?;
                self.exporter.timeout_seconds = ms as f64 / 1000.0;
            }
        }
        self.sampling.apply_env(&get)?;
        self.validate()
    }

    /// Checks every value; the error names the key and the value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.exporter.protocol.check_built(
            "tracing.exporter.protocol",
            self.exporter.endpoint.as_deref(),
        )?;
        let rate_ok = |r: f64| (0.0..=1.0).contains(&r);
        if !rate_ok(self.sampling.rate) {
            return Err(ConfigError::value(
                "tracing.sampling.rate",
                &self.sampling.rate.to_string(),
                "a rate is a number from 0 to 1",
            ));
        }
        for (i, rule) in self.sampling.adaptive_rules.iter().enumerate() {
            if !rate_ok(rule.rate) {
                let key = format!("tracing.sampling.adaptive_rules[{i}].rate");
                return Err(ConfigError::value(
                    &key,
                    &rule.rate.to_string(),
                    "a rate is a number from 0 to 1",
                ));
            }
        }
        if let Some(endpoint) = &self.exporter.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::value(
                "tracing.exporter.endpoint",
                endpoint,
                "expected an http:// or https:// URL",
            ));
        }
        if !(self.exporter.timeout_seconds > 0.0 && self.exporter.timeout_seconds.is_finite()) {
            let v = self.exporter.timeout_seconds.to_string();
            return Err(ConfigError::value(
                "tracing.exporter.timeout_seconds",
                &v,
                "expected a positive number of seconds",
            ));
        }
        if !self
            .propagation
            .formats
            .contains(&PropagationFormat::TraceContext)
        {
            return Err(ConfigError::value(
                "tracing.propagation.formats",
                &format!("{:?}", self.propagation.formats),
                "a list with `tracecontext` (spans cannot continue a trace without it)",
            ));
        }
        self.validate_sizes()
    }

    /// Each size setting: its key, its value, and the range it must be in.
    fn size_ranges(&self) -> [(&'static str, u64, u64, u64); 7] {
        let b = &self.batch;
        let l = &self.limits;
        let queue = b.max_queue_size.clamp(1, 1_000_000) as u64;
        [
            (
                "tracing.batch.max_queue_size",
                b.max_queue_size as u64,
                1,
                1_000_000,
            ),
            (
                "tracing.batch.max_queue_bytes",
                b.max_queue_bytes as u64,
                1 << 20,
                1 << 30,
            ),
            (
                "tracing.batch.max_export_batch_size",
                b.max_export_batch_size as u64,
                1,
                queue,
            ),
            (
                "tracing.batch.scheduled_delay_ms",
                b.scheduled_delay_ms,
                1,
                3_600_000,
            ),
            (
                "tracing.limits.max_attribute_length",
                l.max_attribute_length as u64,
                16,
                65_536,
            ),
            (
                "tracing.limits.max_attributes_per_span",
                l.max_attributes_per_span.into(),
                8,
                1024,
            ),
            (
                "tracing.limits.max_events_per_span",
                l.max_events_per_span.into(),
                0,
                1024,
            ),
        ]
    }

    /// Every size within a range that cannot exhaust memory or stall export.
    fn validate_sizes(&self) -> Result<(), ConfigError> {
        for (key, value, min, max) in self.size_ranges() {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::value(
                    key,
                    &value.to_string(),
                    &format!("expected {min} to {max}"),
                ));
            }
        }
        if self.exporter.timeout_seconds > 3600.0 {
            return Err(ConfigError::value(
                "tracing.exporter.timeout_seconds",
                &self.exporter.timeout_seconds.to_string(),
                "expected at most 3600 seconds",
            ));
        }
        Ok(())
    }

    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn batch_settings(&self) -> BatchSettings {
        BatchSettings {
            max_queue_size: self.batch.max_queue_size,
            max_queue_bytes: self.batch.max_queue_bytes,
            max_export_batch_size: self.batch.max_export_batch_size,
            scheduled_delay: Duration::from_millis(self.batch.scheduled_delay_ms),
            export_timeout: self.exporter.timeout(),
        }
    }

    pub(crate) fn resource(&self) -> Resource {
        Resource::builder()
            .with_attributes([
                KeyValue::new("service.version", self.service_version.clone()),
                KeyValue::new("deployment.environment", self.environment.clone()),
                KeyValue::new("deployment.environment.name", self.environment.clone()),
                KeyValue::new("service.namespace", self.namespace.clone()),
            ])
            .with_service_name(self.service_name.clone())
            .build()
    }
}

fn parse_bool(var: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ConfigError::env(var, v, "expected true or false")),
    }
}

/// An OTLP/HTTP endpoint without a path gets `/v1/traces`.
fn http_traces_url(endpoint: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    if after_scheme.trim_end_matches('/').contains('/') {
        endpoint.to_owned()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    }
}

/// The exporter for `endpoint` (as [`ExporterConfig::url`] writes it) and how its export
/// futures are driven.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) fn build_exporter(
    protocol: OtlpProtocol,
    endpoint: &str,
    timeout: Duration,
) -> Result<(opentelemetry_otlp::SpanExporter, ExportDriver), ExporterError> {
    let built = match protocol {
        #[cfg(feature = "otlp-grpc")]
        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(timeout)
            .build()
            .map(|e| (e, ExportDriver::Tokio)),
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(timeout)
            .build()
            // The blocking HTTP client must not run inside a tokio runtime.
            .map(|e| (e, ExportDriver::Blocking)),
        #[allow(unreachable_patterns)] // with both transports built in
        other => {
            return Err(ExporterError::NotBuilt {
                endpoint: endpoint.to_owned(),
                protocol: other,
                feature: other.missing_feature().unwrap_or("otlp-grpc"),
            });
        }
    };
    built.map_err(|source| ExporterError::Build {
        endpoint: endpoint.to_owned(),
        source,
    })
}

/// Why the OTLP span exporter could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExporterError {
    /// This build has no OTLP transport for the protocol.
    NotBuilt {
        /// The endpoint it was for.
        endpoint: String,
        /// The protocol asked for.
        protocol: OtlpProtocol,
        /// The cargo feature that brings it.
        feature: &'static str,
    },
    /// The exporter refused its settings.
    Build {
        /// The endpoint it was for.
        endpoint: String,
        /// What the exporter said.
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

impl std::fmt::Display for ExporterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExporterError::NotBuilt {
                endpoint,
                protocol,
                feature,
            } => write!(
                f,
                "cannot export to {endpoint}: this build has no OTLP over {protocol:?} (cargo feature `{feature}`)"
            ),
            ExporterError::Build { endpoint, source } => {
                write!(f, "cannot build the OTLP exporter for {endpoint}: {source}")
            }
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExporterError::NotBuilt { .. } => None,
            ExporterError::Build { source, .. } => Some(source),
        }
    }
}
