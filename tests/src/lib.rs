//! Shared helpers of the end-to-end tests in `tests/`.

pub mod catalogue;
pub mod mcp_client;
pub mod mcp_http;
pub mod peers;

use only1mcp_obs::metrics::{MetricsConfig, MetricsServer};
use std::path::PathBuf;
use std::process::{Child, Command};

/// Kills and reaps a child process when dropped, even when the test panics.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The workspace's root directory (where the committed generated files are).
pub fn workspace_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), std::path::Path::to_path_buf)
}

/// The path of a binary of a workspace package, (re)built so it matches the sources.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    build(package, "--bin", bin).join(bin)
}

/// The path of an example binary of a workspace package, (re)built so it matches the sources.
pub fn example_binary(package: &str, example: &str) -> PathBuf {
    build(package, "--example", example)
        .join("examples")
        .join(example)
}

/// Runs `cargo build -p PACKAGE KIND NAME` into this test's target directory and returns
/// `target/<profile>`. `cargo test` releases its build lock before running tests, so this nested
/// build is safe and, when `cargo test --workspace` already built the target, a no-op.
fn build(package: &str, kind: &str, name: &str) -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/<profile>
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, kind, name])
        .env(
            "CARGO_TARGET_DIR",
            profile_dir.parent().expect("target dir"),
        )
        .status()
        .expect("run cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} {kind} {name} failed"
    );
    profile_dir
}

/// Serves `/metrics` of the test process on a free port of 127.0.0.1, on a runtime of its own, so
/// that a live Prometheus can scrape it; stopped when dropped.
#[derive(Debug)]
pub struct Exporter {
    runtime: tokio::runtime::Runtime,
    server: Option<MetricsServer>,
}

impl Exporter {
    /// Binds and starts serving.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime
            .block_on(MetricsServer::bind(&MetricsConfig {
                port: 0,
                ..MetricsConfig::default()
            }))
            .expect("bind /metrics");
        Exporter {
            runtime,
            server: Some(server),
        }
    }

    /// `host:port` to scrape.
    pub fn target(&self) -> String {
        self.server
            .as_ref()
            .expect("server")
            .local_addr()
            .to_string()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}

/// Jaeger on the testkit's backend, and a tracing configuration that exports `service`'s spans
/// to it over gRPC every 50 ms; `None` (said on the terminal) when Jaeger cannot run there and
/// is not required.
pub fn jaeger_for(
    test: &str,
    service: &str,
) -> Option<(
    only1mcp_obs_testkit::traces::TraceBackend,
    only1mcp_obs::trace::TracingConfig,
)> {
    use only1mcp_obs_testkit::backend::{Backend, required};
    use only1mcp_obs_testkit::traces::Jaeger;
    let backend = Backend::from_env();
    if let Some(why) = Jaeger::unavailable(backend) {
        assert!(
            !required("jaeger"),
            "[{test}] Jaeger is required here but cannot run on the {backend} backend: {why}"
        );
        eprintln!("[{test}] SKIPPED: {why}");
        return None;
    }
    let jaeger: only1mcp_obs_testkit::traces::TraceBackend =
        Jaeger::start(backend).expect("jaeger").into();
    let mut config = only1mcp_obs::trace::TracingConfig {
        service_name: service.to_owned(),
        ..Default::default()
    };
    config.exporter.endpoint = Some(jaeger.grpc_endpoint());
    config.exporter.protocol = only1mcp_obs::trace::OtlpProtocol::Grpc;
    // The exporter's batch interval, not a wait: tests poll the backend with a deadline.
    config.batch.scheduled_delay_ms = 50;
    Some((jaeger, config))
}
