//! OTLP metrics push, beside the `/metrics` scrape: every registered family, sent at a fixed
//! interval to an OpenTelemetry collector or to Prometheus 3's OTLP receiver.
//!
//! Each family keeps its meaning on the way, mapped the way the OpenTelemetry-to-Prometheus
//! compatibility conventions map it back: a counter is a cumulative monotonic sum named without
//! `_total`, a gauge a gauge, a histogram an explicit-bucket histogram with the declared bounds;
//! the declared unit becomes its UCUM code (`seconds` is `s`, `bytes` is `By`, `ratio` is `1`)
//! and leaves the name. Prometheus adds the suffixes back, so a pushed family arrives under the
//! name it has on the scrape page, with the same labels, and the generated dashboards and alert
//! rules work whichever way the metrics came. Exemplars travel as OTLP exemplars.
//!
//! Pushing runs on a thread of its own: a slow or black-holed collector delays only the next
//! push, never a request. Each push is bounded by the timeout and by the families' compile-time
//! series budgets; its result is counted in `only1mcp_obs_metric_exports_total{result}`.
//!
//! ```no_run
//! use only1mcp_obs::metrics::otlp::{MetricsPusher, OtlpMetricsConfig};
//!
//! let config = OtlpMetricsConfig {
//!     // Prometheus 3 started with `--web.enable-otlp-receiver`.
//!     endpoint: Some("http://127.0.0.1:9090/api/v1/otlp/v1/metrics".into()),
//!     interval_seconds: 15.0,
//!     ..Default::default()
//! };
//! let pusher = MetricsPusher::start(&config, &Default::default()).unwrap().expect("an endpoint");
//! // ... the application runs; its metrics reach Prometheus every 15 s ...
//! pusher.shutdown(std::time::Duration::from_secs(2)); // one last push
//! ```

use super::cell::Point;
use super::desc::{FamilyDesc, MetricKind};
use super::exemplar::Exemplar;
use crate::config::ConfigError;
use crate::trace::{OtlpProtocol, TracingConfig};
use crate::{LabelValue, metrics};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
#[cfg(feature = "otlp-grpc")]
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1 as pb;
use opentelemetry_proto::tonic::resource::v1::Resource;
#[cfg(feature = "otlp-http")]
use prost::Message as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How one push ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum ExportResult {
    /// The receiver accepted the metrics.
    Success,
    /// The receiver refused them or could not be reached.
    Failure,
    /// The push took longer than its timeout.
    Timeout,
}

metrics! {
    /// OTLP metric pushes (every family in one request), by how each ended.
    pub counter METRIC_EXPORTS = "only1mcp_obs_metric_exports_total" {
        labels: { result: ExportResult },
    }
}

/// `observability.metrics.otlp`: where and how often every family is pushed. Nothing is pushed
/// unless an endpoint is set, here or through the `OTEL_*` variables
/// ([`OtlpMetricsConfig::apply_env`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpMetricsConfig {
    /// The receiver. For `http/protobuf`, the full URL that takes the POST:
    /// `http://127.0.0.1:4318/v1/metrics` for a collector,
    /// `http://127.0.0.1:9090/api/v1/otlp/v1/metrics` for Prometheus 3 (started with
    /// `--web.enable-otlp-receiver`). For `grpc`, the collector's address.
    pub endpoint: Option<String>,
    /// `http/protobuf` (the default: Prometheus's receiver speaks only HTTP) or `grpc`.
    pub protocol: OtlpProtocol,
    /// Seconds between pushes.
    pub interval_seconds: f64,
    /// Longest one push may take, in seconds.
    pub timeout_seconds: f64,
    /// Headers sent with every push (an API key for a hosted collector). Never logged.
    pub headers: BTreeMap<String, String>,
}

impl Default for OtlpMetricsConfig {
    fn default() -> Self {
        OtlpMetricsConfig {
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            interval_seconds: 60.0,
            timeout_seconds: 10.0,
            headers: BTreeMap::new(),
        }
    }
}

impl OtlpMetricsConfig {
    /// Applies the standard variables, read through `env` (pass `|k| std::env::var(k).ok()`):
    /// `OTEL_METRICS_EXPORTER` (`otlp` pushes to `OTEL_EXPORTER_OTLP_ENDPOINT`, `none` pushes
    /// nothing, `prometheus` only serves the scrape), `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
    /// (used as is), `OTEL_EXPORTER_OTLP[_METRICS]_PROTOCOL`, `OTEL_METRIC_EXPORT_INTERVAL` and
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (milliseconds), `OTEL_EXPORTER_OTLP_METRICS_HEADERS`
    /// (`key=value,...`).
    ///
    /// The generic `OTEL_EXPORTER_OTLP_ENDPOINT` alone does not turn pushing on: it often names
    /// a trace backend that takes no metrics.
    ///
    /// ```
    /// use only1mcp_obs::metrics::otlp::OtlpMetricsConfig;
    /// let mut config = OtlpMetricsConfig::default();
    /// let env = |k: &str| match k {
    ///     "OTEL_METRICS_EXPORTER" => Some("otlp".to_owned()),
    ///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://127.0.0.1:4318".to_owned()),
    ///     "OTEL_METRIC_EXPORT_INTERVAL" => Some("5000".to_owned()),
    ///     _ => None,
    /// };
    /// config.apply_env(env).unwrap();
    /// assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:4318/v1/metrics"));
    /// assert_eq!(config.interval_seconds, 5.0);
    /// ```
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        for var in [
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        ] {
            if let Some(v) = get(var) {
                self.protocol = OtlpProtocol::from_env(var, &v)?;
            }
        }
        self.apply_env_endpoint(&get)?;
        for (var, field) in [
            ("OTEL_METRIC_EXPORT_INTERVAL", &mut self.interval_seconds),
            ("OTEL_METRIC_EXPORT_TIMEOUT", &mut self.timeout_seconds),
        ] {
            if let Some(v) = get(var) {
                let ms: u64 = v
                    .parse()
                    .map_err(|_| ConfigError::env(var, &v, "expected milliseconds"))?;
                *field = ms as f64 / 1000.0;
            }
        }
        if let Some(v) = get("OTEL_EXPORTER_OTLP_METRICS_HEADERS") {
            self.apply_env_headers(&v)?;
        }
        self.validate()
    }

    /// `OTEL_METRICS_EXPORTER` and the endpoint variables.
    fn apply_env_endpoint(
        &mut self,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = get("OTEL_METRICS_EXPORTER") {
            match v.as_str() {
                "none" => self.endpoint = None,
                "prometheus" => {}
                "otlp" => {
                    if let Some(base) = get("OTEL_EXPORTER_OTLP_ENDPOINT") {
                        self.endpoint = Some(match self.protocol {
                            OtlpProtocol::HttpProtobuf => {
                                format!("{}/v1/metrics", base.trim_end_matches('/'))
                            }
                            OtlpProtocol::Grpc => base,
                        });
                    }
                }
                _ => {
                    return Err(ConfigError::env(
                        "OTEL_METRICS_EXPORTER",
                        &v,
                        "expected `otlp`, `prometheus` or `none`",
                    ));
                }
            }
        }
        if get("OTEL_METRICS_EXPORTER").as_deref() != Some("none")
            && let Some(v) = get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
        {
            self.endpoint = Some(v);
        }
        Ok(())
    }

    /// `OTEL_EXPORTER_OTLP_METRICS_HEADERS`: `key=value` pairs separated by commas.
    fn apply_env_headers(&mut self, v: &str) -> Result<(), ConfigError> {
        for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                // The value may be a secret: only its shape is named.
                return Err(ConfigError::env(
                    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                    "(not shown)",
                    "expected `key=value` pairs separated by commas",
                ));
            };
            self.headers
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
        Ok(())
    }

    /// Checks every value; the error names the key (relative to `observability`) and the value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.protocol
            .check_built("metrics.otlp.protocol", self.endpoint.as_deref())?;
        if let Some(endpoint) = &self.endpoint
            && reqwest::Url::parse(endpoint)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .is_none()
        {
            return Err(ConfigError::value(
                "metrics.otlp.endpoint",
                endpoint,
                "expected an http:// or https:// URL",
            ));
        }
        let ranges = [
            (
                "metrics.otlp.interval_seconds",
                self.interval_seconds,
                86_400.0,
            ),
            ("metrics.otlp.timeout_seconds", self.timeout_seconds, 600.0),
        ];
        for (key, value, max) in ranges {
            if !(value >= 0.01 && value <= max) {
                return Err(ConfigError::value(
                    key,
                    &value.to_string(),
                    &format!("expected 0.01 to {max} seconds"),
                ));
            }
        }
        self.header_map().map(drop)
    }

    /// The headers sent with every push, each checked; a value is never shown in an error.
    fn header_map(&self) -> Result<http::HeaderMap, ConfigError> {
        let mut map = http::HeaderMap::new();
        for (name, value) in &self.headers {
            let key = format!("metrics.otlp.headers.{name}");
            let Ok(header) = http::HeaderName::from_bytes(name.as_bytes()) else {
                return Err(ConfigError::value(&key, name, "not a valid header name"));
            };
            let Ok(value) = http::HeaderValue::from_str(value) else {
                return Err(ConfigError::value(
                    &key,
                    "(not shown)",
                    "not a valid header value (visible ASCII only)",
                ));
            };
            map.insert(header, value);
        }
        Ok(map)
    }

    fn interval(&self) -> Duration {
        Duration::try_from_secs_f64(self.interval_seconds).unwrap_or(Duration::from_secs(60))
    }

    fn timeout(&self) -> Duration {
        Duration::try_from_secs_f64(self.timeout_seconds).unwrap_or(Duration::from_secs(10))
    }
}

/// The OTLP name and UCUM unit of a family: `_total` and the unit suffix leave the name (the
/// OpenTelemetry-to-Prometheus mapping adds them back), the unit becomes its UCUM code. A
/// `ratio` stays in the name of anything but a gauge, since only gauges get it back.
///
/// ```
/// use only1mcp_obs::metrics::{family, otlp::otlp_name};
/// let requests = family("only1mcp_mcp_requests_total").unwrap();
/// assert_eq!(otlp_name(requests), ("only1mcp_mcp_requests".to_owned(), ""));
/// let duration = family("only1mcp_mcp_request_duration_seconds").unwrap();
/// assert_eq!(otlp_name(duration), ("only1mcp_mcp_request_duration".to_owned(), "s"));
/// ```
pub fn otlp_name(desc: &FamilyDesc) -> (String, &'static str) {
    let mut name = desc.name;
    if desc.kind == MetricKind::Counter {
        name = name.strip_suffix("_total").unwrap_or(name);
    }
    let Some(unit) = desc.unit else {
        return (name.to_owned(), "");
    };
    let ucum = match unit {
        "seconds" => "s",
        "bytes" => "By",
        "ratio" => "1",
        "percent" => "%",
        "meters" => "m",
        "grams" => "g",
        "joules" => "J",
        "celsius" => "Cel",
        "volts" => "V",
        "amperes" => "A",
        // No UCUM code; Prometheus appends a unit it does not know as it is.
        other => other,
    };
    let comes_back = unit != "ratio" || desc.kind == MetricKind::Gauge;
    if comes_back && let Some(stem) = name.strip_suffix(&format!("_{unit}")[..]) {
        name = stem;
    }
    (name.to_owned(), ucum)
}

fn nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn string_value(value: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(value.to_owned())),
    })
}

fn attributes(labels: &[(&'static str, &'static str)]) -> Vec<KeyValue> {
    labels
        .iter()
        // An empty label value is an absent label on the scrape page: the same here.
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| KeyValue {
            key: (*key).to_owned(),
            value: string_value(value),
            ..Default::default()
        })
        .collect()
}

fn exemplar(e: &Exemplar) -> pb::Exemplar {
    pb::Exemplar {
        time_unix_nano: (e.timestamp * 1e9) as u64,
        trace_id: e.trace_id.to_bytes().to_vec(),
        value: Some(pb::exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    }
}

/// Every registered family as one OTLP request, cumulative since `start`.
///
/// ```
/// use only1mcp_obs::metrics::otlp::snapshot;
/// let resource = only1mcp_obs::trace::resource(&Default::default());
/// let request = snapshot(&resource, std::time::SystemTime::now());
/// let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
/// assert!(metrics.iter().any(|m| m.name == "only1mcp_mcp_requests"));
/// ```
pub fn snapshot(
    resource: &opentelemetry_sdk::Resource,
    start: SystemTime,
) -> ExportMetricsServiceRequest {
    let start = nanos(start);
    let now = nanos(SystemTime::now());
    let metrics = super::registry::collectors()
        .iter()
        .map(|family| metric(*family, start, now))
        .collect();
    let resource = otlp_resource(resource);
    ExportMetricsServiceRequest {
        resource_metrics: vec![pb::ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![pb::ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: env!("CARGO_PKG_NAME").to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One family as an OTLP metric: its points at `now`, cumulative since `start`.
fn metric(family: &dyn super::family::Collect, start: u64, now: u64) -> pb::Metric {
    let desc = family.desc();
    let cumulative = pb::AggregationTemporality::Cumulative as i32;
    let (numbers, histograms) = points(family, start, now);
    let data = match desc.kind {
        MetricKind::Counter => pb::metric::Data::Sum(pb::Sum {
            data_points: numbers,
            aggregation_temporality: cumulative,
            is_monotonic: true,
        }),
        MetricKind::Gauge => pb::metric::Data::Gauge(pb::Gauge {
            data_points: numbers,
        }),
        MetricKind::Histogram => pb::metric::Data::Histogram(pb::Histogram {
            data_points: histograms,
            aggregation_temporality: cumulative,
        }),
    };
    let (name, unit) = otlp_name(desc);
    pb::Metric {
        name,
        description: desc.help.to_owned(),
        unit: unit.to_owned(),
        data: Some(data),
        ..Default::default()
    }
}

/// The number points (counters, gauges) and histogram points of one family.
fn points(
    family: &dyn super::family::Collect,
    start: u64,
    now: u64,
) -> (Vec<pb::NumberDataPoint>, Vec<pb::HistogramDataPoint>) {
    let mut numbers = Vec::new();
    let mut histograms = Vec::new();
    family.visit(&mut |labels, point| match point {
        Point::Counter { value, exemplar: e } => numbers.push(pb::NumberDataPoint {
            attributes: attributes(labels),
            start_time_unix_nano: start,
            time_unix_nano: now,
            exemplars: e.iter().map(exemplar).collect(),
            value: Some(pb::number_data_point::Value::AsDouble(value)),
            ..Default::default()
        }),
        Point::Gauge(value) => numbers.push(pb::NumberDataPoint {
            attributes: attributes(labels),
            start_time_unix_nano: start,
            time_unix_nano: now,
            value: Some(pb::number_data_point::Value::AsDouble(value)),
            ..Default::default()
        }),
        Point::Histogram {
            bounds,
            counts,
            sum,
            exemplars,
        } => histograms.push(pb::HistogramDataPoint {
            attributes: attributes(labels),
            start_time_unix_nano: start,
            time_unix_nano: now,
            count: counts.iter().sum(),
            sum: Some(sum),
            bucket_counts: counts,
            explicit_bounds: bounds.to_vec(),
            exemplars: exemplars.iter().map(exemplar).collect(),
            ..Default::default()
        }),
    });
    (numbers, histograms)
}

/// The SDK resource as OTLP's.
fn otlp_resource(resource: &opentelemetry_sdk::Resource) -> Resource {
    Resource {
        attributes: resource
            .iter()
            .map(|(key, value)| KeyValue {
                key: key.as_str().to_owned(),
                value: string_value(value.as_str().as_ref()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// How pushes travel.
// One value per pusher thread, never moved.
#[allow(clippy::large_enum_variant)]
enum Transport {
    #[cfg(feature = "otlp-http")]
    Http {
        client: reqwest::blocking::Client,
        url: String,
        headers: http::HeaderMap,
    },
    #[cfg(feature = "otlp-grpc")]
    Grpc {
        runtime: tokio::runtime::Runtime,
        endpoint: String,
        headers: tonic::metadata::MetadataMap,
        client: Option<MetricsServiceClient<tonic::transport::Channel>>,
    },
}

impl Transport {
    // Built without any transport, every protocol is refused.
    #[allow(unreachable_code)]
    fn new(config: &OtlpMetricsConfig, endpoint: &str) -> Result<Transport, String> {
        let headers = config.header_map().map_err(|e| e.to_string())?;
        Ok(match config.protocol {
            #[cfg(feature = "otlp-http")]
            OtlpProtocol::HttpProtobuf => {
                let client = reqwest::blocking::Client::builder()
                    .timeout(config.timeout())
                    .build()
                    .map_err(|e| e.to_string())?;
                Transport::Http {
                    client,
                    url: endpoint.to_owned(),
                    headers,
                }
            }
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                Transport::Grpc {
                    runtime,
                    endpoint: endpoint.to_owned(),
                    headers: tonic::metadata::MetadataMap::from_headers(headers),
                    client: None,
                }
            }
            #[allow(unreachable_patterns)] // with both transports built in
            other => {
                let _ = (headers, endpoint);
                let feature = other.missing_feature().unwrap_or("otlp-grpc");
                return Err(format!(
                    "this build has no OTLP over {other:?} (cargo feature `{feature}`)"
                ));
            }
        })
    }

    // Only gRPC calls take the timeout from here (the HTTP client has it built in).
    #[cfg_attr(not(feature = "otlp-grpc"), allow(unused_variables))]
    fn send(&mut self, request: ExportMetricsServiceRequest, timeout: Duration) -> ExportResult {
        match self {
            #[cfg(feature = "otlp-http")]
            Transport::Http {
                client,
                url,
                headers,
            } => {
                let sent = client
                    .post(url.as_str())
                    .headers(headers.clone())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(request.encode_to_vec())
                    .send();
                match sent {
                    Ok(response) if response.status().is_success() => ExportResult::Success,
                    Ok(_) => ExportResult::Failure,
                    Err(e) if e.is_timeout() => ExportResult::Timeout,
                    Err(_) => ExportResult::Failure,
                }
            }
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc {
                runtime,
                endpoint,
                headers,
                client,
            } => runtime.block_on(async {
                let call = async {
                    if client.is_none() {
                        *client = MetricsServiceClient::connect(endpoint.clone()).await.ok();
                    }
                    let Some(client) = client.as_mut() else {
                        return ExportResult::Failure;
                    };
                    let mut request = tonic::Request::new(request);
                    *request.metadata_mut() = headers.clone();
                    match client.export(request).await {
                        Ok(_) => ExportResult::Success,
                        Err(_) => ExportResult::Failure,
                    }
                };
                tokio::time::timeout(timeout, call)
                    .await
                    .unwrap_or(ExportResult::Timeout)
            }),
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            _ => {
                let _ = (request, timeout);
                ExportResult::Failure
            }
        }
    }
}

/// Pushes every family on a thread of its own until [`MetricsPusher::shutdown`].
#[derive(Debug)]
pub struct MetricsPusher {
    stop: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsPusher {
    /// Starts pushing to `config.endpoint` every `config.interval_seconds`, with the resource
    /// of `tracing` (service name, namespace, version, environment, `OTEL_RESOURCE_ATTRIBUTES`),
    /// which Prometheus turns into `job` and `target_info`. `Ok(None)` when no endpoint is set.
    pub fn start(
        config: &OtlpMetricsConfig,
        tracing: &TracingConfig,
    ) -> Result<Option<MetricsPusher>, ConfigError> {
        config.validate()?;
        let Some(endpoint) = config.endpoint.clone() else {
            return Ok(None);
        };
        let config = config.clone();
        let resource = tracing.resource();
        let (stop, stopped) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("only1mcp-otlp-metrics".into())
            .spawn(move || {
                push_loop(&config, &endpoint, &resource, &stopped);
                let _ = finished.send(());
            })
            .map_err(|e| ConfigError::value("metrics.otlp", "", &e.to_string()))?;
        Ok(Some(MetricsPusher {
            stop,
            done,
            thread: Some(thread),
        }))
    }

    /// Makes one last push and stops, within `timeout`: a push still running by then is left
    /// to finish on its own thread. Returns whether it stopped in time.
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        let _ = self.stop.send(());
        let stopped = self.done.recv_timeout(timeout).is_ok();
        if stopped && let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        stopped
    }
}

fn push_loop(
    config: &OtlpMetricsConfig,
    endpoint: &str,
    resource: &opentelemetry_sdk::Resource,
    stop: &mpsc::Receiver<()>,
) {
    let start = SystemTime::now();
    let mut transport = match Transport::new(config, endpoint) {
        Ok(transport) => transport,
        Err(reason) => {
            tracing::error!(target: "only1mcp_obs::metrics", reason, "OTLP metrics push is disabled");
            METRIC_EXPORTS.labels(ExportResult::Failure).inc();
            return;
        }
    };
    let interval = config.interval();
    let mut next = Instant::now() + interval;
    loop {
        // Waiting for the next push or for the stop signal, whichever comes first.
        let last = match stop.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Timeout) => false,
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => true,
        };
        let result = transport.send(snapshot(resource, start), config.timeout());
        METRIC_EXPORTS.labels(result).inc();
        if last {
            return;
        }
        next += interval;
        // A push that took longer than the interval is not followed by a burst of catch-ups.
        next = next.max(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_generic_endpoint_alone_pushes_nothing() {
        let mut config = OtlpMetricsConfig::default();
        config
            .apply_env(env(&[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://127.0.0.1:4318",
            )]))
            .expect("config");
        assert_eq!(config.endpoint, None);
    }

    #[test]
    fn the_metrics_endpoint_is_used_as_is_and_none_wins() {
        let mut config = OtlpMetricsConfig::default();
        let url = "http://127.0.0.1:9090/api/v1/otlp/v1/metrics";
        config
            .apply_env(env(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", url)]))
            .expect("config");
        assert_eq!(config.endpoint.as_deref(), Some(url));
        config
            .apply_env(env(&[
                ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", url),
                ("OTEL_METRICS_EXPORTER", "none"),
            ]))
            .expect("config");
        assert_eq!(config.endpoint, None);
    }

    #[test]
    fn bad_values_name_the_variable_or_key() {
        let mut config = OtlpMetricsConfig::default();
        let err = config
            .apply_env(env(&[("OTEL_METRIC_EXPORT_INTERVAL", "soon")]))
            .expect_err("bad interval");
        assert!(
            err.to_string().contains("OTEL_METRIC_EXPORT_INTERVAL"),
            "{err}"
        );
        let err = config
            .apply_env(env(&[(
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                "secret-token",
            )]))
            .expect_err("bad headers");
        assert!(!err.to_string().contains("secret-token"), "{err}");
        let config = OtlpMetricsConfig {
            endpoint: Some("127.0.0.1:4318".into()),
            ..Default::default()
        };
        let err = config.validate().expect_err("no scheme");
        assert!(err.to_string().contains("metrics.otlp.endpoint"), "{err}");
        let config = OtlpMetricsConfig {
            interval_seconds: 0.0,
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn every_family_keeps_its_name_through_the_prometheus_mapping() {
        // The inverse of Prometheus's translation (otlptranslator, UnderscoreEscapingWithSuffixes)
        // for the units families can declare.
        fn back(name: &str, unit: &str, kind: MetricKind) -> String {
            let suffix = match unit {
                "s" => "seconds",
                "By" => "bytes",
                "%" => "percent",
                "m" => "meters",
                "g" => "grams",
                "J" => "joules",
                "Cel" => "celsius",
                "V" => "volts",
                "A" => "amperes",
                "1" | "" => "",
                other => other,
            };
            let mut tokens: Vec<&str> = name.split('_').collect();
            if !suffix.is_empty() && !tokens.contains(&suffix) {
                tokens.push(suffix);
            }
            if kind == MetricKind::Counter {
                tokens.retain(|t| *t != "total");
                tokens.push("total");
            }
            if unit == "1" && kind == MetricKind::Gauge {
                tokens.retain(|t| *t != "ratio");
                tokens.push("ratio");
            }
            tokens.join("_")
        }
        for desc in crate::metrics::families() {
            let (name, unit) = otlp_name(desc);
            assert_eq!(back(&name, unit, desc.kind), desc.name, "{name} ({unit})");
        }
    }
}
