//! Where live components run: local processes from PATH, or containers through testcontainers.
//! Picked with `ONLY1MCP_TESTKIT_BACKEND` (`process`, `container`, or `auto`, the default:
//! containers when a Docker engine answers and the images are present, processes otherwise).

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// The environment variable that picks the backend.
pub const BACKEND_ENV: &str = "ONLY1MCP_TESTKIT_BACKEND";
/// Overrides the Prometheus image (default [`PROMETHEUS_IMAGE`]).
pub const PROMETHEUS_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_PROMETHEUS_IMAGE";
/// Overrides the Alertmanager image (default [`ALERTMANAGER_IMAGE`]).
pub const ALERTMANAGER_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_ALERTMANAGER_IMAGE";
/// The Prometheus image `scripts/build-test-images` builds from the Debian binary (pinned tag).
pub const PROMETHEUS_IMAGE: &str = "only1mcp-obs-testkit/prometheus:2.42.0-debian";
/// The Alertmanager image `scripts/build-test-images` builds from the Debian binary (pinned tag).
pub const ALERTMANAGER_IMAGE: &str = "only1mcp-obs-testkit/alertmanager:0.25.0-debian";

/// How live components are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `prometheus` and `prometheus-alertmanager` from PATH, as child processes.
    Process,
    /// Containers on a Docker engine, with host networking so every byte stays on loopback.
    Container,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Process => "process",
            Backend::Container => "container",
        })
    }
}

/// A live component the test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Prometheus.
    Prometheus,
    /// Alertmanager.
    Alertmanager,
    /// Jaeger (containers only: it is not packaged in Debian).
    Jaeger,
}

impl Component {
    fn binary(self) -> &'static str {
        match self {
            Component::Prometheus => "prometheus",
            Component::Alertmanager => "prometheus-alertmanager",
            Component::Jaeger => "jaeger",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Component::Prometheus => "prometheus",
            Component::Alertmanager => "prometheus-alertmanager",
            Component::Jaeger => "none: run Jaeger on the container backend",
        }
    }

    /// The container image (pinned tag), from its environment variable or the default.
    pub fn image(self) -> String {
        let (var, default) = match self {
            Component::Prometheus => (PROMETHEUS_IMAGE_ENV, PROMETHEUS_IMAGE),
            Component::Alertmanager => (ALERTMANAGER_IMAGE_ENV, ALERTMANAGER_IMAGE),
            Component::Jaeger => (crate::traces::JAEGER_IMAGE_ENV, crate::traces::JAEGER_IMAGE),
        };
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    }
}

fn on_path(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

impl Backend {
    /// The backend `ONLY1MCP_TESTKIT_BACKEND` asks for, resolving `auto`.
    pub fn from_env() -> Backend {
        match std::env::var(BACKEND_ENV).as_deref() {
            Ok("process") => Backend::Process,
            Ok("container") => Backend::Container,
            _ if Backend::Container.unavailable().is_none() => Backend::Container,
            _ => Backend::Process,
        }
    }

    /// Why this backend cannot run here, or `None` when it can.
    pub fn unavailable(self) -> Option<String> {
        match self {
            Backend::Process => [Component::Prometheus, Component::Alertmanager]
                .into_iter()
                .find_map(|c| {
                    on_path(c.binary()).is_none().then(|| {
                        format!(
                            "`{}` is not on PATH: install the Debian package `{}`",
                            c.binary(),
                            c.package()
                        )
                    })
                }),
            Backend::Container => container_unavailable(),
        }
    }

    /// Says on the terminal (not in captured test output) which backend a test runs on, or why
    /// it is skipped. Returns whether the backend can run.
    pub fn announce(self, test: &str) -> bool {
        let mut err = io::stderr();
        match self.unavailable() {
            None => {
                let _ = writeln!(err, "[{test}] live stack on the {self} backend");
                true
            }
            Some(reason) => {
                let _ = writeln!(err, "[{test}] SKIPPED on the {self} backend: {reason}");
                false
            }
        }
    }

    pub(crate) fn launch(
        self,
        component: Component,
        args: Vec<String>,
        dir: &Path,
    ) -> io::Result<Running> {
        match self {
            Backend::Process => launch_process(component, args, dir),
            Backend::Container => launch_container(&component.image(), args, dir),
        }
    }
}

fn docker_cli(args: &[&str]) -> Option<std::process::Output> {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()
}

fn container_unavailable() -> Option<String> {
    engine_unavailable().or_else(|| {
        [Component::Prometheus, Component::Alertmanager]
            .into_iter()
            .find_map(image_missing)
    })
}

/// Why no Docker engine can be used, or `None` when one answers.
pub(crate) fn engine_unavailable() -> Option<String> {
    let Some(info) = docker_cli(&["info", "--format", "{{.ServerVersion}}"]) else {
        return Some("the `docker` client is not installed".to_owned());
    };
    if !info.status.success() {
        let host = std::env::var("DOCKER_HOST")
            .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned());
        return Some(format!(
            "no Docker engine answers at {host} (scripts/test starts one as root)"
        ));
    }
    None
}

/// Why `component`'s image is not in the engine (what to run to get it), or `None`. Never pulls:
/// tests send nothing off the machine on their own.
pub(crate) fn image_missing(component: Component) -> Option<String> {
    let image = component.image();
    match docker_cli(&["image", "inspect", &image]) {
        Some(out) if out.status.success() => None,
        _ if component == Component::Jaeger => Some(format!(
            "image {image} is not in the Docker engine: `docker pull {image}` to use it"
        )),
        _ => Some(format!(
            "image {image} is missing: run scripts/build-test-images"
        )),
    }
}

/// A running component; stopped and removed when dropped, even when the test panics.
pub(crate) enum Running {
    Process(Child),
    // An `Option` so that Drop can move the container to another thread.
    Container(Option<Box<Container<GenericImage>>>),
}

impl Drop for Running {
    fn drop(&mut self) {
        match self {
            Running::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // A container is stopped and removed by its own Drop, which blocks on a runtime of
            // its own: inside an async test that must happen on another thread.
            Running::Container(container) if tokio::runtime::Handle::try_current().is_ok() => {
                if let Some(container) = container.take() {
                    let _ = std::thread::spawn(move || drop(container)).join();
                }
            }
            Running::Container(_) => {}
        }
    }
}

fn launch_process(component: Component, args: Vec<String>, dir: &Path) -> io::Result<Running> {
    if component == Component::Jaeger {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "Jaeger runs on the container backend only",
        ));
    }
    let binary = on_path(component.binary()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "`{}` not found on PATH: install the Debian package `{}`",
                component.binary(),
                component.package()
            ),
        )
    })?;
    let log = std::fs::File::create(dir.join("output.log"))?;
    let child = Command::new(binary)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    Ok(Running::Process(child))
}

/// Starts `image` with host networking, `dir` mounted at the same path, and `args`.
pub(crate) fn launch_container(image: &str, args: Vec<String>, dir: &Path) -> io::Result<Running> {
    let (name, tag) = image.rsplit_once(':').unwrap_or((image, "latest-unpinned"));
    let dir_text = dir.to_string_lossy().into_owned();
    // Host networking: the component binds 127.0.0.1 ports chosen by the test, and scrapes
    // targets on 127.0.0.1, exactly as a local process would.
    let container = GenericImage::new(name, tag)
        .with_wait_for(WaitFor::Nothing)
        .with_network("host")
        .with_mount(Mount::bind_mount(dir_text.clone(), dir_text))
        .with_cmd(args)
        .start()
        .map_err(|e| io::Error::other(format!("cannot start container {image}: {e}")))?;
    Ok(Running::Container(Some(Box::new(container))))
}

/// A free TCP port on 127.0.0.1 (the listener is closed again; the component binds it next).
pub fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Running {
    /// What the component printed, for failure messages.
    pub(crate) fn output(&self, dir: &Path) -> String {
        match self {
            Running::Process(_) => {
                std::fs::read_to_string(dir.join("output.log")).unwrap_or_default()
            }
            Running::Container(None) => String::new(),
            Running::Container(Some(c)) => {
                let out = c.stdout_to_vec().unwrap_or_default();
                let err = c.stderr_to_vec().unwrap_or_default();
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&err)
                )
            }
        }
    }
}
