//! Which releases of the stack a test runs: the current generation (Prometheus 3, Alertmanager
//! 0.35, Jaeger v2, built from their pinned Go modules by `scripts/build-stack`) or the older one
//! (Debian's Prometheus 2.42 and Alertmanager 0.25). `ONLY1MCP_TESTKIT_GENERATION` (`current`,
//! the default, or `legacy`) picks for tests that do not choose themselves; builders take a
//! [`Generation`] too.
//!
//! The versions come from the one list, `only1mcp_obs_generate::stack`, which also writes
//! `stack/versions` for the scripts and pins the images of `deploy/`; a test fails when the Go
//! modules under `stack/` require other releases.
//!
//! ```
//! use only1mcp_obs_testkit::generation::{Generation, PROMETHEUS_VERSION};
//! assert_eq!(Generation::Current.prometheus_version(), PROMETHEUS_VERSION);
//! assert_eq!(Generation::Legacy.prometheus_version(), "2.42.0");
//! // Where the process backend looks for the current Prometheus (built by scripts/build-stack).
//! let binary = Generation::Current.binary("prometheus");
//! assert!(binary.ends_with("prometheus-3.16.0/prometheus"));
//! ```

use std::fmt;
use std::path::PathBuf;

pub use only1mcp_obs_generate::stack::{
    ALERTMANAGER_LEGACY_VERSION, ALERTMANAGER_VERSION, JAEGER_VERSION, PROMETHEUS_LEGACY_VERSION,
    PROMETHEUS_VERSION,
};

/// The environment variable that picks the generation: `current` or `legacy`.
pub const GENERATION_ENV: &str = "ONLY1MCP_TESTKIT_GENERATION";
/// Where `scripts/build-stack` puts the binaries (default `$HOME/.cache/only1mcp-obs/stack`).
pub const STACK_CACHE_ENV: &str = "ONLY1MCP_STACK_CACHE";

/// A generation of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// Prometheus 3.16, Alertmanager 0.35, built from pinned Go modules.
    Current,
    /// Prometheus 2.42 and Alertmanager 0.25 from Debian's packages.
    Legacy,
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Prometheus {} / Alertmanager {}",
            self.prometheus_version(),
            self.alertmanager_version()
        )
    }
}

impl Generation {
    /// Both generations, current first.
    pub const ALL: [Generation; 2] = [Generation::Current, Generation::Legacy];

    /// The generation `ONLY1MCP_TESTKIT_GENERATION` asks for (current unless `legacy`).
    pub fn from_env() -> Generation {
        match std::env::var(GENERATION_ENV).as_deref() {
            Ok("legacy") => Generation::Legacy,
            _ => Generation::Current,
        }
    }

    /// A short name for test names and messages: `prometheus3` or `prometheus2`.
    pub fn short(self) -> &'static str {
        match self {
            Generation::Current => "prometheus3",
            Generation::Legacy => "prometheus2",
        }
    }

    /// Prometheus' version.
    pub fn prometheus_version(self) -> &'static str {
        match self {
            Generation::Current => PROMETHEUS_VERSION,
            Generation::Legacy => PROMETHEUS_LEGACY_VERSION,
        }
    }

    /// Alertmanager's version.
    pub fn alertmanager_version(self) -> &'static str {
        match self {
            Generation::Current => ALERTMANAGER_VERSION,
            Generation::Legacy => ALERTMANAGER_LEGACY_VERSION,
        }
    }

    /// The path of `tool` (`prometheus`, `promtool`, `alertmanager`, `amtool`, `jaeger`) of this
    /// generation: in the build cache for the current one, Debian's name on PATH for the older
    /// one (a bare name when it is not on PATH, so that errors can name it).
    pub fn binary(self, tool: &str) -> PathBuf {
        match self {
            Generation::Current => {
                let component = match tool {
                    "promtool" | "prometheus" => format!("prometheus-{PROMETHEUS_VERSION}"),
                    "amtool" | "alertmanager" => format!("alertmanager-{ALERTMANAGER_VERSION}"),
                    other => format!("{other}-{JAEGER_VERSION}"),
                };
                stack_cache().join(component).join(tool)
            }
            Generation::Legacy => {
                let debian = match tool {
                    "alertmanager" => "prometheus-alertmanager",
                    other => other,
                };
                on_path(debian).unwrap_or_else(|| PathBuf::from(debian))
            }
        }
    }

    /// What to do when [`Generation::binary`] is missing.
    pub fn install_hint(self) -> &'static str {
        match self {
            Generation::Current => "run scripts/build-stack (builds the pinned stack with Go)",
            Generation::Legacy => {
                "install the Debian packages: apt-get install prometheus prometheus-alertmanager"
            }
        }
    }
}

/// `$ONLY1MCP_STACK_CACHE`, else `$HOME/.cache/only1mcp-obs/stack`.
pub fn stack_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os(STACK_CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/only1mcp-obs/stack")
}

pub(crate) fn on_path(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn root(path: &str) -> String {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(path);
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    }

    fn versions() -> BTreeMap<String, String> {
        root("stack/versions")
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    /// The constants here, `stack/versions`, the Go modules and `deploy/` name the same releases.
    #[test]
    fn one_pin_list_for_the_testkit_the_scripts_the_go_modules_and_deploy() {
        let v = versions();
        for (key, ours) in [
            ("PROMETHEUS_VERSION", PROMETHEUS_VERSION),
            ("ALERTMANAGER_VERSION", ALERTMANAGER_VERSION),
            ("JAEGER_VERSION", JAEGER_VERSION),
            ("PROMETHEUS_LEGACY_VERSION", PROMETHEUS_LEGACY_VERSION),
            ("ALERTMANAGER_LEGACY_VERSION", ALERTMANAGER_LEGACY_VERSION),
        ] {
            assert_eq!(
                v.get(key).map(String::as_str),
                Some(ours),
                "stack/versions {key}"
            );
        }
        for (component, key) in [
            ("prometheus", "PROMETHEUS_MODULE"),
            ("alertmanager", "ALERTMANAGER_MODULE"),
            ("jaeger", "JAEGER_MODULE"),
        ] {
            let (module, version) = v[key].split_once('@').expect("MODULE@VERSION");
            let go_mod = root(&format!("stack/{component}/go.mod"));
            assert!(
                go_mod
                    .lines()
                    .any(|l| l.trim().starts_with(&format!("{module} {version}"))),
                "stack/{component}/go.mod must require {module} {version} (stack/versions)"
            );
        }
        let compose = root("deploy/docker-compose.monitoring.yml");
        for image in [
            format!("prom/prometheus:v{PROMETHEUS_VERSION}"),
            format!("prom/alertmanager:v{ALERTMANAGER_VERSION}"),
            format!("jaegertracing/jaeger:{JAEGER_VERSION}"),
        ] {
            assert!(
                compose.contains(&format!("image: \"{image}\"")),
                "deploy/docker-compose.monitoring.yml must run {image} (stack/versions)"
            );
        }
    }

    #[test]
    fn the_generation_comes_from_the_environment_name() {
        assert_eq!(Generation::Current.short(), "prometheus3");
        assert_eq!(
            Generation::Current.binary("amtool"),
            stack_cache().join("alertmanager-0.35.0/amtool")
        );
        assert!(
            Generation::Legacy
                .binary("alertmanager")
                .ends_with("prometheus-alertmanager")
        );
        assert_eq!(
            Generation::Legacy.to_string(),
            "Prometheus 2.42.0 / Alertmanager 0.25.0"
        );
    }
}
