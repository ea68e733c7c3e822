//! Health endpoints: `/health/live` (the process answers), `/health/ready` (every registered
//! check passes: backends reachable, configuration loaded, cache, ...), `/health/startup`
//! (startup finished). JSON bodies; 200 when healthy, 503 otherwise.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
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
    /// registered fails.
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
        let mut report = Map::new();
        let mut all_ok = true;
        for name in names {
            let start = Instant::now();
            let result = match checks.iter().find(|(n, _)| *n == name) {
                Some((_, check)) => match tokio::time::timeout(timeout, check()).await {
                    Ok(result) => result,
                    Err(_) => Err(format!("timed out after {timeout:?}")),
                },
                None => Err("no such check is registered".to_owned()),
            };
            all_ok &= result.is_ok();
            let (status, detail) = match result {
                Ok(detail) => ("ok", detail),
                Err(reason) => ("fail", reason),
            };
            report.insert(name, json!({ "status": status, "detail": detail, "duration_ms": start.elapsed().as_secs_f64() * 1000.0 }));
        }
        (
            all_ok,
            json!({ "status": if all_ok { "ok" } else { "fail" }, "checks": report }),
        )
    }
}

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

/// The health routes, at the paths of `config`.
pub fn router(health: Health, config: &HealthConfig) -> Router {
    let endpoints = Endpoints {
        health,
        config: config.clone(),
    };
    Router::new()
        .route(&config.liveness.path, get(live))
        .route(&config.readiness.path, get(ready))
        .route(&config.startup.path, get(startup))
        .with_state(endpoints)
}

impl HealthConfig {
    /// Checks every value; keys are relative to `health`.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        for (key, probe) in [
            ("liveness", &self.liveness),
            ("readiness", &self.readiness),
            ("startup", &self.startup),
        ] {
            if !probe.path.starts_with('/') {
                return Err(ConfigError::value(
                    &format!("health.{key}.path"),
                    &probe.path,
                    "a path starting with `/`",
                ));
            }
            if !(probe.timeout_seconds > 0.0 && probe.timeout_seconds.is_finite()) {
                let v = probe.timeout_seconds.to_string();
                return Err(ConfigError::value(
                    &format!("health.{key}.timeout_seconds"),
                    &v,
                    "a positive number of seconds",
                ));
            }
        }
        Ok(())
    }
}
