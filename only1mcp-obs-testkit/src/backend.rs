//! Where live components run: local processes, or containers through testcontainers. Picked
//! with `ONLY1MCP_TESTKIT_BACKEND` (`process`, `container`, or `auto`, the default: containers
//! when a Docker engine answers and the images are present, processes otherwise). Which
//! releases run is the [`Generation`]'s business.
//!
//! `ONLY1MCP_TESTKIT_REQUIRE` (a comma-separated list of `process`, `container`, `jaeger`)
//! turns a backend that cannot run into a failure instead of a skip: `scripts/test` sets it for
//! everything it set up.

use crate::generation::Generation;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use testcontainers::core::{Mount, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// The environment variable that picks the backend.
pub const BACKEND_ENV: &str = "ONLY1MCP_TESTKIT_BACKEND";
/// The environment variable listing what must run (`process`, `container`, `jaeger`).
pub const REQUIRE_ENV: &str = "ONLY1MCP_TESTKIT_REQUIRE";
/// Overrides the Jaeger image (default [`JAEGER_IMAGE`]).
pub const JAEGER_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_JAEGER_IMAGE";
/// The Jaeger image (pinned tag): Jaeger v2 as `scripts/build-test-images` builds it from the
/// pinned module ([`JAEGER_VERSION`](crate::generation::JAEGER_VERSION)). The testkit never pulls an image; where images can be
/// pulled, `jaegertracing/jaeger` with the same tag is the official one.
pub const JAEGER_IMAGE: &str = concat!(
    "only1mcp-obs-testkit/jaeger:",
    only1mcp_obs_generate::stack_version!(jaeger)
);
/// Overrides the current Prometheus image (default [`PROMETHEUS_IMAGE`]).
pub const PROMETHEUS_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_PROMETHEUS_IMAGE";
/// Overrides the current Alertmanager image (default [`ALERTMANAGER_IMAGE`]).
pub const ALERTMANAGER_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_ALERTMANAGER_IMAGE";
/// Overrides the older Prometheus image (default [`PROMETHEUS_LEGACY_IMAGE`]).
pub const PROMETHEUS_LEGACY_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_PROMETHEUS_LEGACY_IMAGE";
/// Overrides the older Alertmanager image (default [`ALERTMANAGER_LEGACY_IMAGE`]).
pub const ALERTMANAGER_LEGACY_IMAGE_ENV: &str = "ONLY1MCP_TESTKIT_ALERTMANAGER_LEGACY_IMAGE";
/// Prometheus 3 as `scripts/build-test-images` builds it from the pinned module (pinned tag).
pub const PROMETHEUS_IMAGE: &str = concat!(
    "only1mcp-obs-testkit/prometheus:",
    only1mcp_obs_generate::stack_version!(prometheus)
);
/// Alertmanager 0.35 as `scripts/build-test-images` builds it from the pinned module.
pub const ALERTMANAGER_IMAGE: &str = concat!(
    "only1mcp-obs-testkit/alertmanager:",
    only1mcp_obs_generate::stack_version!(alertmanager)
);
/// Prometheus 2.42 as `scripts/build-test-images` builds it from the Debian binary.
pub const PROMETHEUS_LEGACY_IMAGE: &str = concat!(
    "only1mcp-obs-testkit/prometheus:",
    only1mcp_obs_generate::stack_version!(prometheus_legacy),
    "-debian"
);
/// Alertmanager 0.25 as `scripts/build-test-images` builds it from the Debian binary.
pub const ALERTMANAGER_LEGACY_IMAGE: &str = concat!(
    "only1mcp-obs-testkit/alertmanager:",
    only1mcp_obs_generate::stack_version!(alertmanager_legacy),
    "-debian"
);

/// How live components are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Local child processes (the generation's binaries).
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
    /// Jaeger v2 (one generation: the current one).
    Jaeger,
}

impl Component {
    fn tool(self) -> &'static str {
        match self {
            Component::Prometheus => "prometheus",
            Component::Alertmanager => "alertmanager",
            Component::Jaeger => "jaeger",
        }
    }

    fn generation(self, generation: Generation) -> Generation {
        match self {
            Component::Jaeger => Generation::Current,
            _ => generation,
        }
    }

    /// The binary the process backend runs for `generation`.
    pub fn binary(self, generation: Generation) -> PathBuf {
        self.generation(generation).binary(self.tool())
    }

    /// The container image (pinned tag) for `generation`, from its environment variable or the
    /// default.
    pub fn image(self, generation: Generation) -> String {
        let (var, default) = match (self, self.generation(generation)) {
            (Component::Prometheus, Generation::Current) => {
                (PROMETHEUS_IMAGE_ENV, PROMETHEUS_IMAGE)
            }
            (Component::Prometheus, Generation::Legacy) => {
                (PROMETHEUS_LEGACY_IMAGE_ENV, PROMETHEUS_LEGACY_IMAGE)
            }
            (Component::Alertmanager, Generation::Current) => {
                (ALERTMANAGER_IMAGE_ENV, ALERTMANAGER_IMAGE)
            }
            (Component::Alertmanager, Generation::Legacy) => {
                (ALERTMANAGER_LEGACY_IMAGE_ENV, ALERTMANAGER_LEGACY_IMAGE)
            }
            (Component::Jaeger, _) => (JAEGER_IMAGE_ENV, JAEGER_IMAGE),
        };
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    /// Why this component of `generation` cannot run on `backend`, or `None`.
    pub fn unavailable(self, backend: Backend, generation: Generation) -> Option<String> {
        match backend {
            Backend::Process => {
                let binary = self.binary(generation);
                (!binary.is_file()).then(|| {
                    format!(
                        "{} is missing: {}",
                        binary.display(),
                        self.generation(generation).install_hint()
                    )
                })
            }
            Backend::Container => engine_unavailable().or_else(|| image_missing(self, generation)),
        }
    }
}

/// Whether `ONLY1MCP_TESTKIT_REQUIRE` lists `what` (`process`, `container` or `jaeger`).
pub fn required(what: &str) -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v.split(',').any(|b| b.trim() == what))
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

    /// Why this backend cannot run Prometheus and Alertmanager of the generation
    /// `ONLY1MCP_TESTKIT_GENERATION` names, or `None` when it can.
    pub fn unavailable(self) -> Option<String> {
        self.unavailable_for(Generation::from_env())
    }

    /// Why this backend cannot run Prometheus and Alertmanager of `generation`, or `None`.
    pub fn unavailable_for(self, generation: Generation) -> Option<String> {
        [Component::Prometheus, Component::Alertmanager]
            .into_iter()
            .find_map(|c| c.unavailable(self, generation))
    }

    /// Says on the terminal (not in captured test output) which backend a test runs on, or why
    /// it is skipped. Returns whether the backend can run.
    pub fn announce(self, test: &str) -> bool {
        self.announce_for(test, Generation::from_env())
    }

    /// [`Backend::announce`] for `generation`. When `ONLY1MCP_TESTKIT_REQUIRE` lists this
    /// backend, a backend that cannot run is a failure (a panic with the reason), not a skip.
    pub fn announce_for(self, test: &str, generation: Generation) -> bool {
        self.announce_components(
            test,
            generation,
            &[Component::Prometheus, Component::Alertmanager],
        )
    }

    /// [`Backend::announce_for`] for a test that needs only `components`.
    pub fn announce_components(
        self,
        test: &str,
        generation: Generation,
        components: &[Component],
    ) -> bool {
        let mut err = io::stderr();
        match components
            .iter()
            .find_map(|c| c.unavailable(self, generation))
        {
            None => {
                let _ = writeln!(
                    err,
                    "[{test}] live stack on the {self} backend, {generation}"
                );
                true
            }
            Some(reason) if required(&self.to_string()) => panic!(
                "[{test}] the {self} backend ({generation}) is required here \
                 ({REQUIRE_ENV}) but cannot run: {reason}"
            ),
            Some(reason) => {
                let _ = writeln!(
                    err,
                    "[{test}] SKIPPED on the {self} backend, {generation}: {reason}"
                );
                false
            }
        }
    }

    pub(crate) fn launch(
        self,
        component: Component,
        generation: Generation,
        args: Vec<String>,
        dir: &Path,
    ) -> io::Result<Running> {
        match self {
            Backend::Process => launch_process(component, generation, args, dir),
            Backend::Container => launch_container(&component.image(generation), args, dir),
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
pub(crate) fn image_missing(component: Component, generation: Generation) -> Option<String> {
    let image = component.image(generation);
    match docker_cli(&["image", "inspect", &image]) {
        Some(out) if out.status.success() => None,
        _ => Some(format!(
            "image {image} is not in the Docker engine: run scripts/build-test-images \
             (or pull the official image and point the testkit's image variable at it)"
        )),
    }
}

/// A running component; stopped and removed when dropped, even when the test panics.
pub(crate) enum Running {
    Process(Child),
    // An `Option` so that Drop can move the container to another thread.
    Container(Option<Box<Container<GenericImage>>>),
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Running::Process(child) => write!(f, "process {}", child.id()),
            Running::Container(Some(c)) => write!(f, "container {}", c.id()),
            Running::Container(None) => f.write_str("container (stopping)"),
        }
    }
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

fn launch_process(
    component: Component,
    generation: Generation,
    args: Vec<String>,
    dir: &Path,
) -> io::Result<Running> {
    if let Some(why) = component.unavailable(Backend::Process, generation) {
        return Err(io::Error::new(io::ErrorKind::NotFound, why));
    }
    let log = std::fs::File::create(dir.join("output.log"))?;
    let child = Command::new(component.binary(generation))
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
    // As the owner of the mounted directory, so that images whose default user is unprivileged
    // (the official ones) can write their data there.
    let user = owner(dir)?;
    // Host networking: the component binds 127.0.0.1 ports chosen by the test, and scrapes
    // targets on 127.0.0.1, exactly as a local process would.
    let container = GenericImage::new(name, tag)
        .with_wait_for(WaitFor::Nothing)
        .with_network("host")
        .with_user(user)
        .with_mount(Mount::bind_mount(dir_text.clone(), dir_text))
        .with_cmd(args)
        .start()
        .map_err(|e| io::Error::other(format!("cannot start container {image}: {e}")))?;
    Ok(Running::Container(Some(Box::new(container))))
}

#[cfg(unix)]
fn owner(dir: &Path) -> io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)?;
    Ok(format!("{}:{}", meta.uid(), meta.gid()))
}

#[cfg(not(unix))]
fn owner(_: &Path) -> io::Result<String> {
    Ok("0:0".to_owned())
}

/// A free TCP port on 127.0.0.1 (the listener is closed again; the component binds it next).
pub fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Running {
    /// Waits until `{base}/-/ready` answers 200 (Prometheus and Alertmanager say so there); an
    /// error names `component` and carries what it printed.
    pub(crate) fn await_ready(&self, component: &str, base: &str, dir: &Path) -> io::Result<()> {
        let url = format!("{base}/-/ready");
        crate::poll(crate::STARTUP, || {
            crate::http::get(&url).ok().filter(|r| r.status == 200)
        })
        .map(drop)
        .map_err(|e| {
            io::Error::other(format!(
                "{component} never became ready ({e}); it printed:\n{}",
                self.output(dir)
            ))
        })
    }

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
