//! `observability.metrics`: where `/metrics` is served and what is recorded.

use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};

/// Where `/metrics` is served. Deserializes from the `observability.metrics` section of the
/// configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Address to bind; loopback by default so nothing is exposed unless asked for.
    pub address: IpAddr,
    /// Port to bind; `0` picks a free one.
    pub port: u16,
    /// Path of the exposition page.
    pub path: String,
    /// The exposition format: `prometheus` (the only one).
    #[serde(rename = "type")]
    pub kind: MetricsFormat,
    /// Which optional labels and families are recorded.
    pub detailed: DetailedMetrics,
    /// Accepted for compatibility with the design's reference file: histogram buckets are
    /// declared with `metrics!` (so dashboards and alerts can rely on them) and this list must
    /// only be increasing positive numbers; it does not change them.
    pub latency_buckets: Option<Vec<f64>>,
    /// `Host` values answered (names match any port, `name:port` only that port); others get
    /// 403, against DNS rebinding. Empty answers any `Host`. Loopback names by default.
    pub allowed_hosts: Vec<String>,
    /// A file holding a bearer token that scrapes must send (`Authorization: Bearer ..`).
    pub bearer_token_file: Option<std::path::PathBuf>,
    /// Keep the trace id of a sampled span as the exemplar of the counters and histogram
    /// buckets it updates (shown to OpenMetrics scrapers).
    pub exemplars: bool,
    /// The same families pushed over OTLP as well (off unless an endpoint is set).
    pub otlp: super::otlp::OtlpMetricsConfig,
}

/// `observability.metrics.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsFormat {
    /// The Prometheus text format (and OpenMetrics, when the scraper asks for it).
    #[default]
    Prometheus,
}

/// `observability.metrics.detailed`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetailedMetrics {
    /// Record the tool name (`gen_ai_tool_name`, a bounded domain) on operation durations.
    pub per_tool: bool,
    /// Record the backend (`server_id`) on request metrics; `self` otherwise.
    pub per_backend: bool,
    /// Per-user labels: refused, one series per user is unbounded cardinality.
    pub per_user: bool,
    /// Record durations in histograms.
    pub histograms: bool,
}

impl Default for DetailedMetrics {
    fn default() -> Self {
        DetailedMetrics {
            per_tool: true,
            per_backend: true,
            per_user: false,
            histograms: true,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 9090,
            path: "/metrics".to_owned(),
            kind: MetricsFormat::Prometheus,
            detailed: DetailedMetrics::default(),
            latency_buckets: None,
            allowed_hosts: crate::guard::loopback_hosts(),
            bearer_token_file: None,
            exemplars: true,
            otlp: Default::default(),
        }
    }
}
