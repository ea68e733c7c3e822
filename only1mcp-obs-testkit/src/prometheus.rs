//! A real Prometheus, per test: free port, temp dir, scraping the process under test at a short
//! interval, loading given rule files, optionally alerting to an Alertmanager.

use crate::backend::{Backend, Component, Running, free_port};
use crate::generation::Generation;
use crate::http;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// What Prometheus scrapes and evaluates.
#[derive(Debug, Clone)]
pub struct PrometheusConfig {
    /// `host:port` targets serving `/metrics`.
    pub targets: Vec<String>,
    /// Scrape and rule evaluation interval.
    pub interval: Duration,
    /// Rule files to load (copied into the instance's directory).
    pub rule_files: Vec<PathBuf>,
    /// Alertmanager `host:port` to send alerts to.
    pub alertmanager: Option<String>,
    /// Which release runs (default: [`Generation::from_env`]).
    pub generation: Generation,
    /// Prometheus 3 only: the protocol assumed for a target whose answer has no (or an unknown)
    /// `Content-Type`, e.g. `PrometheusText0.0.4`. Without it Prometheus 3 fails such scrapes
    /// (Prometheus 2 parsed them as text); Prometheus 2 rejects the setting, so it is left out
    /// of its configuration.
    pub fallback_scrape_protocol: Option<String>,
    /// Prometheus 3 only: accept OTLP metrics on `/api/v1/otlp/v1/metrics`
    /// (`--web.enable-otlp-receiver`); see [`Prometheus::otlp_metrics_url`]. Prometheus 2.42
    /// has no OTLP receiver, so starting it with this set is an error.
    pub otlp_receiver: bool,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            targets: Vec::new(),
            interval: Duration::from_secs(1),
            rule_files: Vec::new(),
            alertmanager: None,
            generation: Generation::from_env(),
            fallback_scrape_protocol: None,
            otlp_receiver: false,
        }
    }
}

impl PrometheusConfig {
    /// Scrapes `target` (`host:port`).
    pub fn scrape(mut self, target: impl Into<String>) -> Self {
        self.targets.push(target.into());
        self
    }

    /// Loads a rule file.
    pub fn rule_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.rule_files.push(path.into());
        self
    }

    /// Sends alerts to an Alertmanager at `host:port`.
    pub fn alertmanager(mut self, address: impl Into<String>) -> Self {
        self.alertmanager = Some(address.into());
        self
    }

    /// Runs `generation`'s Prometheus.
    pub fn generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self
    }

    /// Prometheus 3: accepts OTLP metrics pushed to [`Prometheus::otlp_metrics_url`].
    pub fn otlp_receiver(mut self) -> Self {
        self.otlp_receiver = true;
        self
    }

    /// Prometheus 3: scrapes targets without a `Content-Type` as `protocol`.
    pub fn fallback_scrape_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.fallback_scrape_protocol = Some(protocol.into());
        self
    }

    fn yaml(&self, rule_paths: &[String]) -> String {
        let interval = format!("{}ms", self.interval.as_millis());
        let fallback = match (&self.fallback_scrape_protocol, self.generation) {
            (Some(p), Generation::Current) => format!("    fallback_scrape_protocol: {p}\n"),
            _ => String::new(),
        };
        let mut yaml = format!(
            "global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n\
             rule_files: [{}]\n\
             scrape_configs:\n  - job_name: under_test\n    scrape_interval: {interval}\n{fallback}    static_configs:\n      - targets: [{}]\n",
            yaml_list(rule_paths),
            yaml_list(&self.targets)
        );
        if let Some(am) = &self.alertmanager {
            yaml.push_str(&format!("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{am}\"]\n"));
        }
        yaml
    }
}

/// One sample of a query result.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels, `__name__` included.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// An exemplar stored by Prometheus: the series it belongs to, its own labels (`trace_id`), and
/// its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The series' labels, `__name__` included (a histogram's `_bucket` series with its `le`).
    pub series: BTreeMap<String, String>,
    /// The exemplar's labels, such as `trace_id`.
    pub labels: BTreeMap<String, String>,
    /// The observed value or increment.
    pub value: f64,
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} = {}", self.labels, self.value)
    }
}

/// A scrape target's state.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL scraped.
    pub url: String,
    /// `up`, `down` or `unknown`.
    pub health: String,
    /// The last scrape error.
    pub last_error: String,
}

/// A loaded rule's state.
#[derive(Debug, Clone)]
pub struct RuleStatus {
    /// The rule group.
    pub group: String,
    /// Alert or record name.
    pub name: String,
    /// `ok`, `err` or `unknown`.
    pub health: String,
    /// For alerts: `inactive`, `pending` or `firing`.
    pub state: String,
    /// The last evaluation error.
    pub last_error: String,
}

/// A query error as Prometheus reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// HTTP status.
    pub status: u16,
    /// `bad_data`, `execution`, ...
    pub error_type: String,
    /// The message.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {} {}: {}",
            self.status, self.error_type, self.message
        )
    }
}

impl std::error::Error for QueryError {}

/// A running Prometheus; stopped and cleaned up when dropped.
#[derive(Debug)]
pub struct Prometheus {
    url: String,
    backend: Backend,
    generation: Generation,
    running: Running,
    dir: tempfile::TempDir,
}

fn yaml_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Prometheus {
    /// Starts Prometheus on `backend` and waits until it is ready.
    ///
    /// ```no_run
    /// use only1mcp_obs_testkit::{backend::Backend, prometheus::{Prometheus, PrometheusConfig}};
    /// let prom = Prometheus::start(Backend::from_env(), PrometheusConfig::default().scrape("127.0.0.1:9464")).unwrap();
    /// let up = prom.eventually("up", |s| s.iter().any(|s| s.value == 1.0), std::time::Duration::from_secs(15)).unwrap();
    /// ```
    pub fn start(backend: Backend, config: PrometheusConfig) -> io::Result<Self> {
        if config.otlp_receiver && config.generation == Generation::Legacy {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "Prometheus {} has no OTLP receiver (it came in 2.47, as a feature flag)",
                    config.generation.prometheus_version()
                ),
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("only1mcp-prometheus-")
            .tempdir()?;
        let port = free_port()?;
        let mut rule_paths = Vec::new();
        for (i, source) in config.rule_files.iter().enumerate() {
            let target = dir.path().join(format!("rules-{i}.yml"));
            std::fs::copy(source, &target)?;
            rule_paths.push(target.to_string_lossy().into_owned());
        }
        let yaml = config.yaml(&rule_paths);
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, yaml)?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data)?;
        let mut args = vec![
            format!("--config.file={}", config_path.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--web.enable-lifecycle".to_owned(),
            // Keeps the exemplars of OpenMetrics scrapes (`/api/v1/query_exemplars`).
            "--enable-feature=exemplar-storage".to_owned(),
        ];
        if config.otlp_receiver {
            args.push("--web.enable-otlp-receiver".to_owned());
        }
        let generation = config.generation;
        let running = backend.launch(Component::Prometheus, generation, args, dir.path())?;
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            backend,
            generation,
            running,
            dir,
        };
        prometheus
            .running
            .await_ready("Prometheus", &prometheus.url, prometheus.dir.path())?;
        Ok(prometheus)
    }

    /// Where OTLP/HTTP metrics are pushed, when started with
    /// [`PrometheusConfig::otlp_receiver`].
    pub fn otlp_metrics_url(&self) -> String {
        format!("{}/api/v1/otlp/v1/metrics", self.url)
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which backend it runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Which release it is.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// The version Prometheus reports (`/api/v1/status/buildinfo`), e.g. `3.16.0`, without
    /// build metadata (Debian's says `2.42.0+ds`).
    pub fn version(&self) -> Result<String, QueryError> {
        let data = self.api("/api/v1/status/buildinfo", &[])?;
        let version = data["version"].as_str().unwrap_or("");
        Ok(version.split('+').next().unwrap_or(version).to_owned())
    }

    /// What Prometheus printed so far.
    pub fn output(&self) -> String {
        self.running.output(self.dir.path())
    }

    fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, QueryError> {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", http::encode(v)))
            .collect();
        let url = format!("{}{path}?{}", self.url, query.join("&"));
        let response = http::get(&url).map_err(|e| QueryError {
            status: 0,
            error_type: "io".into(),
            message: e.to_string(),
        })?;
        let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        if response.status == 200 && body["status"] == "success" {
            return Ok(body["data"].clone());
        }
        Err(QueryError {
            status: response.status,
            error_type: body["errorType"].as_str().unwrap_or("unknown").to_owned(),
            message: body["error"].as_str().unwrap_or(&response.body).to_owned(),
        })
    }

    /// A PromQL instant query.
    pub fn query(&self, expr: &str) -> Result<Vec<Sample>, QueryError> {
        let data = self.api("/api/v1/query", &[("query", expr)])?;
        let result = &data["result"];
        let parse = |v: &Value| {
            v[1].as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        Ok(match data["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| Sample {
                    labels: s["metric"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                        .collect(),
                    value: parse(&s["value"]),
                })
                .collect(),
            Some("scalar") => vec![Sample {
                labels: BTreeMap::new(),
                value: parse(result),
            }],
            _ => Vec::new(),
        })
    }

    /// The exemplars stored for the series `expr` selects, over the last hour.
    pub fn exemplars(&self, expr: &str) -> Result<Vec<Exemplar>, QueryError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (start, end) = (now.saturating_sub(3600).to_string(), (now + 60).to_string());
        let data = self.api(
            "/api/v1/query_exemplars",
            &[("query", expr), ("start", &start), ("end", &end)],
        )?;
        let labels = |v: &Value| -> BTreeMap<String, String> {
            v.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        };
        Ok(data
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|series| {
                let series_labels = labels(&series["seriesLabels"]);
                series["exemplars"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |e| Exemplar {
                        series: series_labels.clone(),
                        labels: labels(&e["labels"]),
                        value: e["value"]
                            .as_str()
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(f64::NAN),
                    })
            })
            .collect())
    }

    /// The value of a query that returns one sample.
    pub fn value(&self, expr: &str) -> Result<Option<f64>, QueryError> {
        Ok(self.query(expr)?.first().map(|s| s.value))
    }

    /// Polls `expr` until `predicate` holds for its result. On timeout the error gives the last
    /// result and every scrape target's health and last error.
    pub fn eventually(
        &self,
        expr: &str,
        predicate: impl Fn(&[Sample]) -> bool,
        deadline: Duration,
    ) -> Result<Vec<Sample>, crate::WaitError> {
        let mut last: Result<Vec<Sample>, QueryError> = Ok(Vec::new());
        crate::poll(deadline, || {
            last = self.query(expr);
            last.as_ref().ok().filter(|s| predicate(s)).cloned()
        })
        .map_err(|e| {
            let targets: Vec<String> = self
                .targets()
                .iter()
                .map(|t| format!("{} {} {}", t.url, t.health, t.last_error))
                .collect();
            let last = match &last {
                Ok(samples) if samples.is_empty() => "no data".to_owned(),
                Ok(samples) => samples
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  "),
                Err(err) => err.to_string(),
            };
            let scraped = self.scraped_names();
            e.of(
                format!("`{expr}` satisfying the check"),
                format!(
                    "last result:\n  {last}\nscrape targets:\n  {}\nmetrics scraped ({}): {}",
                    targets.join("\n  "),
                    scraped.len(),
                    scraped.join(", ")
                ),
            )
        })
    }

    /// The names of every metric scraped so far, sorted.
    pub fn scraped_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .query("group by (__name__) ({__name__=~\".+\"})")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.labels.get("__name__").cloned())
            .collect();
        names.sort();
        names
    }

    /// Checks that `expr` parses: Prometheus answers 400 `bad_data` when it does not.
    pub fn check_expr(&self, expr: &str) -> Result<(), QueryError> {
        match self.api("/api/v1/query", &[("query", expr), ("time", "0")]) {
            Ok(_) => Ok(()),
            Err(e) if e.error_type == "bad_data" => Err(e),
            // An execution error still means the expression parsed.
            Err(e) if e.status == 422 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether `expr` returns at least one sample now.
    pub fn returns_data(&self, expr: &str) -> Result<bool, QueryError> {
        Ok(!self.query(expr)?.is_empty())
    }

    /// The scrape targets and their health.
    pub fn targets(&self) -> Vec<Target> {
        let Ok(data) = self.api("/api/v1/targets", &[]) else {
            return Vec::new();
        };
        data["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Target {
                url: t["scrapeUrl"].as_str().unwrap_or("").to_owned(),
                health: t["health"].as_str().unwrap_or("").to_owned(),
                last_error: t["lastError"].as_str().unwrap_or("").to_owned(),
            })
            .collect()
    }

    /// The loaded rules and their health.
    pub fn rules(&self) -> Vec<RuleStatus> {
        let Ok(data) = self.api("/api/v1/rules", &[]) else {
            return Vec::new();
        };
        let mut rules = Vec::new();
        for group in data["groups"].as_array().into_iter().flatten() {
            for rule in group["rules"].as_array().into_iter().flatten() {
                rules.push(RuleStatus {
                    group: group["name"].as_str().unwrap_or("").to_owned(),
                    name: rule["name"].as_str().unwrap_or("").to_owned(),
                    health: rule["health"].as_str().unwrap_or("").to_owned(),
                    state: rule["state"].as_str().unwrap_or("").to_owned(),
                    last_error: rule["lastError"].as_str().unwrap_or("").to_owned(),
                });
            }
        }
        rules
    }
}
