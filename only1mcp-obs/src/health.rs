//! Health endpoints: `/health/live` (the process answers), `/health/ready` (every registered
//! check passes: backends reachable, configuration loaded, cache, ...), `/health/startup`
//! (startup finished). JSON bodies; 200 when healthy, 503 otherwise.

#[cfg(feature = "catalogue")]
use crate::catalogue::{HEALTH_CHECK_DURATION, HEALTH_CHECK_STATUS, HealthCheck};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// `observability.health.liveness` / `.readiness` / `.startup`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// The probe's path.
    pub path: String,
    /// Longest the probe may take.
    pub timeout_seconds: f64,
    /// Checks that must pass (readiness): each must be registered by the application.
    pub checks: Vec<String>,
}

/// `observability.health`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Serve the endpoints.
    pub enabled: bool,
    /// Address to bind (loopback by default).
    pub address: std::net::IpAddr,
    /// Port to bind.
    pub port: u16,
    /// Base path.
    pub path: String,
    /// Liveness probe.
    pub liveness: ProbeConfig,
    /// Readiness probe.
    pub readiness: ProbeConfig,
    /// Startup probe.
    pub startup: ProbeConfig,
    /// `Host` values answered; others get 403 (DNS rebinding). Loopback names by default;
    /// empty answers any `Host`.
    pub allowed_hosts: Vec<String>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        let probe = |path: &str, timeout: f64, checks: &[&str]| ProbeConfig {
            path: path.to_owned(),
            timeout_seconds: timeout,
            checks: checks.iter().map(|c| (*c).to_owned()).collect(),
        };
        HealthConfig {
            enabled: true,
            address: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 8088,
            path: "/health".to_owned(),
            liveness: probe("/health/live", 1.0, &[]),
            readiness: probe("/health/ready", 5.0, &["config", "backends"]),
            startup: probe("/health/startup", 1.0, &[]),
            allowed_hosts: crate::guard::loopback_hosts(),
        }
    }
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            path: String::new(),
            timeout_seconds: 5.0,
            checks: Vec::new(),
        }
    }
}

/// What a check found: `Ok(detail)` or `Err(reason)`.
pub type CheckResult = Result<String, String>;
type CheckFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = CheckResult> + Send>> + Send + Sync>;

/// The registered checks and the startup flag.
#[derive(Clone, Default)]
pub struct Health {
    checks: Arc<RwLock<Vec<(String, CheckFn)>>>,
    started: Arc<AtomicBool>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        f.debug_struct("Health")
            .field("checks", &names)
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish()
    }
}

impl Health {
    /// No checks yet; not started.
    pub fn new() -> Self {
        Health::default()
    }

    /// Registers (or replaces) a readiness check.
    ///
    /// ```
    /// let health = only1mcp_obs::health::Health::new();
    /// health.register("cache", || async { Ok("12 entries".to_owned()) });
    /// ```
    pub fn register<F, Fut>(&self, name: &str, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        let check: CheckFn = Arc::new(move || Box::pin(check()));
        let mut checks = self.checks.write().unwrap_or_else(PoisonError::into_inner);
        checks.retain(|(n, _)| n != name);
        checks.push((name.to_owned(), check));
    }

    /// The names of the registered checks.
    pub fn names(&self) -> Vec<String> {
        self.checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Marks startup as finished.
    pub fn mark_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    /// Runs the checks named in `required` (every registered check when empty), each within
    /// `timeout`; the JSON report and whether all passed. A required check that is not
    /// registered fails. Each check's outcome and duration are also kept as metrics,
    /// `only1mcp_health_check_status{check}` and `only1mcp_health_check_duration_seconds{check}`.
    pub async fn readiness(&self, required: &[String], timeout: Duration) -> (bool, Value) {
        let checks: Vec<(String, CheckFn)> = self
            .checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let names: Vec<String> = if required.is_empty() {
            checks.iter().map(|(n, _)| n.clone()).collect()
        } else {
            required.to_vec()
        };
        // Concurrently: one slow check costs the probe its own timeout, not the sum of all.
        let runs = names.iter().map(|name| {
            let check = checks
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c.clone());
            async move {
                let start = Instant::now();
                let result = match check {
                    Some(check) => match tokio::time::timeout(timeout, check()).await {
                        Ok(result) => result,
                        Err(_) => Err(format!("timed out after {timeout:?}")),
                    },
                    None => Err("no such check is registered".to_owned()),
                };
                (result, start.elapsed())
            }
        });
        let results = join_all(runs).await;
        let mut report = Map::new();
        let mut all_ok = true;
        for (name, (result, took)) in names.into_iter().zip(results) {
            all_ok &= result.is_ok();
            #[cfg(feature = "catalogue")]
            {
                let check = HealthCheck::new(&name);
                HEALTH_CHECK_STATUS
                    .labels(check)
                    .set(if result.is_ok() { 1.0 } else { 0.0 });
                HEALTH_CHECK_DURATION.labels(check).set(took.as_secs_f64());
            }
            let (status, detail) = match result {
                Ok(detail) => ("ok", detail),
                Err(reason) => ("fail", reason),
            };
            report.insert(name, json!({ "status": status, "detail": detail, "duration_ms": took.as_secs_f64() * 1000.0 }));
        }
        (
            all_ok,
            json!({ "status": if all_ok { "ok" } else { "fail" }, "checks": report }),
        )
    }
}

/// Runs futures concurrently on the current task; their outputs in order.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

impl HealthConfig {
    /// Checks every value; keys are relative to `health`.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        check_route(&self.path)
            .map_err(|why| ConfigError::value("health.path", &self.path, why))?;
        let mut seen: Vec<&str> = Vec::new();
        for (key, probe) in [
            ("liveness", &self.liveness),
            ("readiness", &self.readiness),
            ("startup", &self.startup),
        ] {
            let path_key = format!("health.{key}.path");
            check_route(&probe.path)
                .map_err(|why| ConfigError::value(&path_key, &probe.path, why))?;
            if !probe.path.starts_with(self.path.trim_end_matches('/')) {
                let why = format!("a path under `health.path` ({})", self.path);
                return Err(ConfigError::value(&path_key, &probe.path, &why));
            }
            if seen.contains(&probe.path.as_str()) {
                return Err(ConfigError::value(
                    &path_key,
                    &probe.path,
                    "a path no other probe uses",
                ));
            }
            seen.push(&probe.path);
            if !(probe.timeout_seconds > 0.0 && probe.timeout_seconds <= 300.0) {
                let v = probe.timeout_seconds.to_string();
                return Err(ConfigError::value(
                    &format!("health.{key}.timeout_seconds"),
                    &v,
                    "a number of seconds above 0 and at most 300",
                ));
            }
        }
        Ok(())
    }

    /// The probe paths, to check against other routes of the same server.
    pub fn paths(&self) -> [&str; 3] {
        [
            &self.liveness.path,
            &self.readiness.path,
            &self.startup.path,
        ]
    }
}

/// Whether `path` can be an HTTP route as given: `/`, then segments of ASCII letters, digits,
/// `-`, `_` and `.` (no `{}` or `*`, which routers read as parameters; no empty segment).
pub(crate) fn check_route(path: &str) -> Result<(), &'static str> {
    let ok = path.len() <= 256
        && path.starts_with('/')
        && (path == "/"
            || path[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            }));
    if ok {
        Ok(())
    } else {
        Err("a path starting with `/`, then segments of letters, digits, `-`, `_` and `.`")
    }
}

/// The probes over HTTP, on axum (the `server` feature).
#[cfg(feature = "server")]
mod http {
    use super::{Health, HealthConfig, Ordering};
    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use serde_json::{Value, json};
    use std::time::Duration;

    #[derive(Clone)]
    struct Endpoints {
        health: Health,
        config: HealthConfig,
    }

    fn reply(ok: bool, body: Value) -> impl IntoResponse {
        let status = if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
    }

    async fn live() -> impl IntoResponse {
        reply(true, json!({ "status": "ok" }))
    }

    async fn ready(State(e): State<Endpoints>) -> impl IntoResponse {
        let timeout = Duration::try_from_secs_f64(e.config.readiness.timeout_seconds)
            .unwrap_or(Duration::from_secs(5));
        let (ok, body) = e
            .health
            .readiness(&e.config.readiness.checks, timeout)
            .await;
        reply(ok, body)
    }

    async fn startup(State(e): State<Endpoints>) -> impl IntoResponse {
        let started = e.health.started.load(Ordering::Relaxed);
        reply(
            started,
            json!({ "status": if started { "ok" } else { "starting" } }),
        )
    }

    /// The health routes, at the paths of `config` (with the `server` feature).
    pub fn router(health: Health, config: &HealthConfig) -> Router {
        let endpoints = Endpoints {
            health,
            config: config.clone(),
        };
        let routes = Router::new()
            .route(&config.liveness.path, get(live))
            .route(&config.readiness.path, get(ready))
            .route(&config.startup.path, get(startup))
            .with_state(endpoints);
        crate::guard::guarded(routes, crate::guard::Guard::new(&config.allowed_hosts))
    }

    /// The health endpoints on a port of their own (`health.address:health.port`); an application
    /// that already serves HTTP merges [`router`] into its own instead.
    #[derive(Debug)]
    pub struct HealthServer {
        server: crate::serve::Server,
    }

    impl HealthServer {
        /// Binds `config.address:config.port` and serves the probes of `config` for `health`.
        ///
        /// ```no_run
        /// # async fn run() -> std::io::Result<()> {
        /// use only1mcp_obs::health::{Health, HealthConfig, HealthServer};
        /// let config = HealthConfig { port: 0, ..HealthConfig::default() };
        /// let server = HealthServer::bind(Health::new(), &config).await?;
        /// println!("probe http://{}/health/live", server.local_addr());
        /// server.shutdown(std::time::Duration::from_secs(1)).await
        /// # }
        /// ```
        pub async fn bind(health: Health, config: &HealthConfig) -> std::io::Result<Self> {
            let addr = std::net::SocketAddr::new(config.address, config.port);
            let server = crate::serve::Server::bind(addr, router(health, config), "health").await?;
            Ok(HealthServer { server })
        }

        /// The bound address (useful with port 0).
        pub fn local_addr(&self) -> std::net::SocketAddr {
            self.server.local_addr()
        }

        /// Stops it; requests still open after `timeout` are closed.
        pub async fn shutdown(self, timeout: Duration) -> std::io::Result<()> {
            self.server.shutdown_within(timeout).await
        }
    }
}

#[cfg(feature = "server")]
pub use http::{HealthServer, router};
