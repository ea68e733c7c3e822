//! cargo run -p only1mcp-aggregator [-- --listen 127.0.0.1:8080] [--config FILE] [--audit FILE] [--call-timeout SECS] [--demo]
//! cargo run -p only1mcp-aggregator -- --verify-audit FILE
//! cargo run -p only1mcp-aggregator -- --config FILE --check-config
//! cargo run -p only1mcp-aggregator -- --generate DIR
//!
//! An MCP aggregator instrumented with only1mcp-obs. It fronts the MCP servers the
//! configuration file's `backends:` section names (stdio child processes it supervises, or
//! Streamable HTTP endpoints; see the `config` module and `config/aggregator.example.yaml`) or,
//! without that section, two demo backends it starts as child processes; it merges their tools,
//! resources and prompts and routes calls to the owning backend, serving MCP Streamable HTTP. On one loopback address it serves MCP (`/mcp`),
//! `/metrics` and `/health/{live,ready,startup}`; it writes JSON logs and an audit log, and with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set it exports traces. `--demo` drives traffic with a real MCP
//! client, prints what was recorded, and exits. `--generate DIR` writes its dashboards, alert
//! rules, rule tests, runbooks, Alertmanager routing and deployment files into DIR (the
//! repository's committed ones are its output).

/// Prints a line; a closed stdout (its reader went away) must not bring the server down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod aggregator;
mod backend;
mod cache;
mod changes;
mod config;
mod demo;
mod forwarded;
mod relay;
mod rounds;
mod stdio;
mod upstream;

use aggregator::{Aggregator, Upstream};
use backend::Backend;
use cache::{CacheLimits, ToolCache};
use config::{AggregatorConfig, BackendConfig, Transport};
use only1mcp_obs::audit::AuditLog;
use only1mcp_obs::health::Health;
use only1mcp_obs::propagation::TraceLayer;
use only1mcp_obs::{Observability, ObservabilityConfig};
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The demo backends the aggregator starts.
const BACKENDS: [&str; 2] = ["files", "search"];

#[derive(Debug, Default)]
struct Args {
    listen: Option<SocketAddr>,
    config: Option<PathBuf>,
    audit: Option<PathBuf>,
    demo: bool,
    backend: Option<String>,
    exit_with_parent: bool,
    verify_audit: Option<PathBuf>,
    call_timeout: Option<Duration>,
    check_config: bool,
    generate: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--listen" => {
                args.listen = Some(
                    value("--listen")?
                        .parse()
                        .map_err(|e| format!("--listen: {e}"))?,
                )
            }
            "--config" => args.config = Some(value("--config")?.into()),
            "--audit" => args.audit = Some(value("--audit")?.into()),
            "--backend" => args.backend = Some(value("--backend")?),
            "--demo" => args.demo = true,
            "--verify-audit" => args.verify_audit = Some(value("--verify-audit")?.into()),
            "--call-timeout" => {
                let text = value("--call-timeout")?;
                let seconds: f64 = text
                    .parse()
                    .map_err(|e| format!("--call-timeout `{text}`: {e}"))?;
                let timeout = Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|t| !t.is_zero() && t.as_secs() <= 3600)
                    .ok_or(format!(
                        "--call-timeout `{text}`: seconds above 0, at most 3600"
                    ))?;
                args.call_timeout = Some(timeout);
            }
            "--exit-with-parent" => args.exit_with_parent = true,
            "--check-config" => args.check_config = true,
            "--generate" => args.generate = Some(value("--generate")?.into()),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: only1mcp-aggregator [--listen ADDR] [--config FILE] [--audit FILE] [--call-timeout SECS] [--demo] | --verify-audit FILE | --config FILE --check-config | --generate DIR"
                ));
            }
        }
    }
    Ok(args)
}

/// The embedded default: everything on loopback, JSON logs, an audit log in the user's state
/// directory (`~/.local/state/only1mcp/audit.log`).
fn default_config() -> ObservabilityConfig {
    let mut config = ObservabilityConfig::default();
    config.health.readiness.checks = vec!["config".into(), "backends".into(), "cache".into()];
    config
}

/// Serves an MCP handler, `/metrics` and the health routes on one listener.
async fn serve<S: ServerHandler + Clone + Send + 'static>(
    handler: S,
    listen: SocketAddr,
    health: Health,
    config: &ObservabilityConfig,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    // `/metrics` and health answer the same loopback `Host` names as MCP, unless configured.
    let metrics = match config.metrics.enabled {
        true => only1mcp_obs::metrics::router_for(&config.metrics)?,
        false => axum::Router::new(),
    };
    let health = match config.health.enabled {
        true => only1mcp_obs::health::router(health, &config.health),
        false => axum::Router::new(),
    };
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_cancellation_token(cancel.child_token()),
    );
    let app = axum::Router::new()
        .nest_service("/mcp", mcp)
        .merge(metrics)
        .merge(health)
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        // Connection info lets handlers record client.address and client.port.
        // TCP_NODELAY: an SSE response is several small writes; without it every call on a
        // kept-alive connection waits ~40 ms for the client's delayed ACK.
        axum::serve(
            only1mcp_obs::metrics::nodelay(listener),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
    });
    Ok(addr)
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// Runs one demo backend (the aggregator starts these as child processes).
async fn run_backend(
    name: String,
    args: Args,
    config: ObservabilityConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let obs = Observability::install(config.clone())?;
    let health = Health::new();
    health.mark_started();
    let cancel = CancellationToken::new();
    let addr = serve(
        Backend { name: name.clone() },
        args.listen.unwrap_or(([127, 0, 0, 1], 0).into()),
        health,
        &config,
        cancel.clone(),
    )
    .await?;
    say!("backend {name}: http://{addr} pid {}", std::process::id());
    let parent_gone = async {
        if args.exit_with_parent {
            // The aggregator holds our stdin: end of input means it is gone, even if it was killed.
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = shutdown_signal() => {}
        _ = parent_gone => {}
    }
    cancel.cancel();
    obs.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// A backend child process, killed when dropped.
struct BackendProcess {
    child: Child,
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_backend(
    name: &str,
    config: &Option<PathBuf>,
) -> std::io::Result<(BackendProcess, String)> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([
            "--backend",
            name,
            "--listen",
            "127.0.0.1:0",
            "--exit-with-parent",
        ])
        .stdin(Stdio::piped());
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .env("OTEL_SERVICE_NAME", format!("only1mcp-backend-{name}"))
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let process = BackendProcess { child };
    let mut lines = BufReader::new(stdout).lines();
    let prefix = format!("backend {name}: ");
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix(&prefix)
                .map(|rest| rest.split(' ').next().unwrap_or(rest).to_owned())
        })
        .ok_or_else(|| std::io::Error::other(format!("backend {name} did not start")))?;
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((process, url))
}

/// `--verify-audit FILE`: checks the hash chain of an audit file; exit status 1 when broken.
fn verify_audit(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let found = only1mcp_obs::audit::verify(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for line in &found.torn {
        say!(
            "{}: line {line} is not a record (a write torn by a crash)",
            path.display()
        );
    }
    match found.broken {
        None => {
            say!("{}: intact, {} records", path.display(), found.records);
            Ok(())
        }
        Some(broken) => {
            say!("{}: BROKEN at {broken}", path.display());
            std::process::exit(1);
        }
    }
}

/// The generator of the aggregator's dashboards, rules and deployment files: run from this
/// binary, it sees every family and instrumented function linked into it.
fn generator() -> only1mcp_obs_generate::Generator {
    only1mcp_obs_generate::Generator::new(GENERATE)
}

/// The command that regenerates the committed files, from the repository's root.
const GENERATE: &str = "cargo run -p only1mcp-aggregator -- --generate .";

/// Runs the aggregator; an error is printed as its message (file, key and value for a bad
/// configuration) and the process exits with status 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("only1mcp-aggregator: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if let Some(path) = &args.verify_audit {
        return verify_audit(path);
    }
    if let Some(dir) = &args.generate {
        for path in generator().write_all(dir)? {
            say!("wrote {}", path.display());
        }
        return Ok(());
    }
    let loaded = match &args.config {
        Some(path) => config::load(path)?,
        None => AggregatorConfig {
            observability: None,
            backends: None,
            cache: CacheLimits::default(),
        },
    };
    if args.check_config {
        let backends = loaded.backends.as_ref().map_or(0, Vec::len);
        say!("configuration ok: {backends} backends");
        return Ok(());
    }
    let config = loaded.observability.unwrap_or_else(default_config);
    if let Some(name) = args.backend.clone() {
        return run_backend(name, args, config).await;
    }
    aggregate(args, config, loaded.cache, loaded.backends).await
}

/// Fronts the backends until Ctrl-C (or, with `--demo`, the demo's end), then shuts down.
async fn aggregate(
    args: Args,
    config: ObservabilityConfig,
    limits: CacheLimits,
    backends: Option<Vec<BackendConfig>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let obs = Observability::install(config.clone())?;
    let _system = only1mcp_obs::system::SystemCollector::start(Duration::from_secs(5))?;
    let (audit, audit_path) = open_audit(&config, &args.audit)?;

    let cache = Arc::new(ToolCache::new(limits));
    // No `backends:` section: the built-in demo backends, started here.
    let (processes, backends) = match backends {
        Some(backends) => (Vec::new(), backends),
        None => start_demo_backends(&args.config)?,
    };
    // The backends' list changes and log messages, on their way to the clients.
    let changes = changes::Changes::default();
    let upstreams = upstreams(&backends, &cache, &changes, args.call_timeout);
    let health = Health::new();
    register_health(&health, &args.config, &upstreams);
    connect_all(&upstreams).await;
    health.mark_started();

    let cancel = CancellationToken::new();
    let listen = args.listen.unwrap_or(([127, 0, 0, 1], 8080).into());
    let handler = Aggregator::new(upstreams.clone(), audit.clone(), cache, changes);
    let cache = handler.clone();
    health.register("cache", move || {
        let (entries, bytes) = cache.cache_size();
        async move { Ok(format!("{entries} cached tool results, {bytes} bytes")) }
    });
    let addr = serve(handler, listen, health, &config, cancel.clone()).await?;
    let audited = audit.as_ref().map(|_| audit_path.as_path());
    print_endpoints(addr, upstreams.len(), &config, &obs, audited);
    if args.demo {
        let audit = audit.as_deref().map(|log| (log, audit_path.as_path()));
        demo::run(&format!("http://{addr}/mcp"), audit).await?;
    } else {
        say!("logs: JSON lines on stdout; Ctrl-C stops");
        shutdown_signal().await;
    }
    cancel.cancel();
    close_all(&upstreams).await;
    drop(processes);
    obs.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Opens the audit log (at `--audit`'s path if given) unless the configuration turns it off;
/// returns it with its path.
fn open_audit(
    config: &ObservabilityConfig,
    path: &Option<PathBuf>,
) -> std::io::Result<(Option<Arc<AuditLog>>, PathBuf)> {
    let mut audit_config = config.audit.clone();
    if let Some(path) = path {
        audit_config.output.path = path.clone();
    }
    let audit = match audit_config.enabled {
        true => Some(Arc::new(AuditLog::open(&audit_config)?)),
        false => None,
    };
    Ok((audit, audit_config.output.path))
}

/// One upstream per backend, sharing the cache and the changes; `--call-timeout`, if given,
/// replaces each backend's own timeout.
fn upstreams(
    backends: &[BackendConfig],
    cache: &Arc<ToolCache>,
    changes: &changes::Changes,
    call_timeout: Option<Duration>,
) -> Arc<Vec<Arc<Upstream>>> {
    let mut upstreams = Vec::new();
    for backend in backends {
        let mut upstream = Upstream::new(backend, cache.clone(), changes.clone());
        if let Some(timeout) = call_timeout {
            upstream.timeout = timeout;
        }
        upstreams.push(Arc::new(upstream));
    }
    Arc::new(upstreams)
}

/// Registers the `config` and `backends` readiness checks: where the configuration came from,
/// and which backends are unreachable.
fn register_health(health: &Health, config: &Option<PathBuf>, upstreams: &Arc<Vec<Arc<Upstream>>>) {
    let source = config
        .as_ref()
        .map_or("embedded default".to_owned(), |p| p.display().to_string());
    health.register("config", move || {
        let source = source.clone();
        async move { Ok(format!("loaded from {source}")) }
    });
    let probed = upstreams.clone();
    health.register("backends", move || {
        let upstreams = probed.clone();
        async move {
            let down: Vec<&str> = upstreams
                .iter()
                .filter(|u| !u.is_healthy())
                .map(|u| u.name.as_str())
                .collect();
            if down.is_empty() {
                Ok(format!("{} reachable", upstreams.len()))
            } else {
                Err(format!("unreachable: {}", down.join(", ")))
            }
        }
    });
}

/// Prints where the aggregator serves MCP, metrics and health, and where its audit log and
/// traces go (`audit` is the audit log's path, `None` when it is off).
fn print_endpoints(
    addr: SocketAddr,
    backends: usize,
    config: &ObservabilityConfig,
    obs: &Observability,
    audit: Option<&std::path::Path>,
) {
    say!("only1mcp-aggregator: fronting {backends} backends");
    say!("mcp: http://{addr}/mcp");
    say!("metrics: http://{addr}{}", config.metrics.path);
    let push = &obs.config().metrics.otlp;
    if let Some(endpoint) = &push.endpoint {
        say!(
            "metrics push: over OTLP to {endpoint} every {} s",
            push.interval_seconds
        );
    }
    say!("health: http://{addr}{}", config.health.readiness.path);
    match audit {
        Some(path) => say!("audit: {}", path.display()),
        None => say!("audit: off (observability.audit.enabled is false)"),
    }
    match &obs.config().tracing.exporter.endpoint {
        Some(endpoint) => say!("traces: exported over OTLP to {endpoint}"),
        None => say!("traces: not exported (set OTEL_EXPORTER_OTLP_ENDPOINT to export)"),
    }
}

/// Closes every upstream at once, each bounded: stdio backends end with their connection,
/// whatever they do.
async fn close_all(upstreams: &[Arc<Upstream>]) {
    let mut closing = tokio::task::JoinSet::new();
    for upstream in upstreams {
        let upstream = upstream.clone();
        closing.spawn(async move { upstream.close(Duration::from_secs(3)).await });
    }
    while closing.join_next().await.is_some() {}
}

/// Starts the built-in demo backends: the embedded default, needing nothing external. Their
/// tool and prompt names already carry their own names, so they get no prefix.
fn start_demo_backends(
    config: &Option<PathBuf>,
) -> std::io::Result<(Vec<BackendProcess>, Vec<BackendConfig>)> {
    let mut processes = Vec::new();
    let mut backends = Vec::new();
    for name in BACKENDS {
        let (process, url) = start_backend(name, config)?;
        say!("backend {name}: {url} pid {}", process.child.id());
        processes.push(process);
        backends.push(BackendConfig {
            name: name.to_owned(),
            transport: Transport::Demo { url },
            timeout: Duration::from_secs(30),
            prefix: String::new(),
        });
    }
    Ok((processes, backends))
}

/// Connects every backend, each on a task of its own (a hung one makes only itself unhealthy),
/// and keeps them connected: a periodic probe for HTTP backends, a supervisor that restarts
/// stdio ones. Returns once each has had its first attempt.
async fn connect_all(upstreams: &Arc<Vec<Arc<Upstream>>>) {
    let http = reqwest::Client::new();
    let mut first_attempts = tokio::task::JoinSet::new();
    for upstream in upstreams.iter() {
        if upstream.is_supervised() {
            let (first, done) = tokio::sync::oneshot::channel();
            tokio::spawn(upstream.clone().supervise(first));
            first_attempts.spawn(async move {
                let _ = done.await;
            });
            continue;
        }
        let (first, client) = (upstream.clone(), http.clone());
        first_attempts.spawn(async move { first.probe(&client).await });
        let (upstream, http) = (upstream.clone(), http.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is now: the first probe above covers it
            loop {
                tick.tick().await;
                upstream.probe(&http).await;
            }
        });
    }
    while first_attempts.join_next().await.is_some() {}
    for upstream in upstreams.iter() {
        if let Some(pid) = upstream.pid() {
            say!("backend {}: stdio pid {pid}", upstream.name);
        }
    }
}
