//! Dashboards, alert rules, rule tests, runbooks, Alertmanager routing and deployment files for
//! an application instrumented with `only1mcp-obs`, built by plain functions from the
//! descriptors that `metrics!` and `#[mcp_instrumented]` register. Every metric and label name
//! in them comes from a descriptor, so they cannot name what the code does not emit.
//!
//! The descriptors are gathered at link time, so the generator runs from the application's own
//! binary: only there is every family and every instrumented function linked in, and the MCP
//! operations dashboard gets one row per instrumented function. The application exposes it as a
//! command of its own; the aggregator's is `only1mcp-aggregator --generate DIR`:
//!
//! ```no_run
//! use only1mcp_obs_generate::Generator;
//! use std::path::Path;
//!
//! // In the application's `main`, when asked to generate:
//! let generator = Generator::new("my-proxy --generate .");
//! for path in generator.write_all(Path::new("."))? {
//!     println!("wrote {}", path.display());
//! }
//! // In a test: the committed copies are what the binary generates.
//! assert!(generator.drift(Path::new("."))?.is_empty());
//! # Ok::<(), only1mcp_obs_generate::GenerateError>(())
//! ```

pub mod dashboards;
pub mod deploy;
pub mod rules;
pub mod runbooks;
pub mod stack;
pub mod variables;
pub mod yaml;

use only1mcp_obs::metrics::alert::AlertPolicy;
pub use only1mcp_obs::metrics::promql;
use only1mcp_obs::metrics::promql::PromqlError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What kept an artifact from being generated or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum GenerateError {
    /// A descriptor lacks what a query needs (a label, a series, a bucket bound).
    Promql(PromqlError),
    /// A family's unit has no dashboard unit.
    Unit {
        /// The family.
        family: &'static str,
        /// Its declared unit.
        unit: Option<&'static str>,
    },
    /// A dashboard could not be written as JSON.
    Json(serde_json::Error),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerateError::Promql(e) => write!(f, "a query cannot be written: {e}"),
            GenerateError::Unit { family, unit } => write!(
                f,
                "{family} declares the unit {unit:?}, which has no dashboard unit"
            ),
            GenerateError::Json(e) => write!(f, "a dashboard cannot be written as JSON: {e}"),
            GenerateError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for GenerateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenerateError::Promql(e) => Some(e),
            GenerateError::Json(e) => Some(e),
            GenerateError::Io { source, .. } => Some(source),
            GenerateError::Unit { .. } => None,
        }
    }
}

impl From<PromqlError> for GenerateError {
    fn from(e: PromqlError) -> Self {
        GenerateError::Promql(e)
    }
}

/// A generated file: path relative to the repository root, and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Relative path, e.g. `dashboards/only1mcp-overview.json`.
    pub path: String,
    /// Content.
    pub content: String,
}

/// The generator, named after the command that runs it (each file says how to regenerate it).
#[derive(Debug, Clone)]
pub struct Generator {
    command: String,
    policies: Vec<AlertPolicy>,
}

impl Generator {
    /// A generator whose files say they come from `command`, with the catalogue's alert
    /// policies (the design's six alerts) and the burn-rate alerts of every declared objective.
    pub fn new(command: impl Into<String>) -> Self {
        Generator {
            command: command.into(),
            policies: only1mcp_obs::catalogue::alerts(),
        }
    }

    /// Adds an alert policy of the application's own: it gets a rule, `promtool` cases, a
    /// runbook page and its routing like the catalogue's.
    pub fn alert(mut self, policy: AlertPolicy) -> Self {
        self.policies.push(policy);
        self
    }

    /// The command the files name.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Every generated file.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, GenerateError> {
        let command = self.command.as_str();
        let mut out = Vec::new();
        for dashboard in dashboards::all()? {
            let json = serde_json::to_string_pretty(&dashboards::render(&dashboard))
                .map_err(GenerateError::Json)?;
            out.push(Artifact {
                path: format!("dashboards/{}", dashboard.file),
                content: json + "\n",
            });
        }
        let alerts = rules::alerts(&self.policies)?;
        let header =
            format!("# Generated by `{command}` from the metric declarations. Do not edit.\n");
        out.push(Artifact {
            path: "alerts/only1mcp.rules.yml".into(),
            content: header.clone() + &yaml::to_yaml(&rules::rule_file(&alerts)),
        });
        out.push(Artifact {
            path: "alerts/only1mcp.rules.test.yml".into(),
            content: header.clone()
                + &yaml::to_yaml(&rules::test_file(&alerts, "only1mcp.rules.yml")),
        });
        for alert in &alerts {
            out.push(Artifact {
                path: format!("{}/{}", runbooks::DIR, alert.runbook_file()),
                content: runbooks::page(alert, command),
            });
        }
        out.push(Artifact {
            path: format!("{}/README.md", runbooks::DIR),
            content: runbooks::index(&alerts, command),
        });
        for (path, value) in deploy::files(&alerts)? {
            out.push(Artifact {
                path,
                content: header.clone() + &yaml::to_yaml(&value),
            });
        }
        out.push(Artifact {
            path: "stack/versions".into(),
            content: stack::versions_file(command),
        });
        Ok(out)
    }

    /// Writes every artifact under `root`; returns the paths written.
    pub fn write_all(&self, root: &Path) -> Result<Vec<PathBuf>, GenerateError> {
        let mut written = Vec::new();
        for artifact in self.artifacts()? {
            let path = root.join(&artifact.path);
            let io = |source| GenerateError::Io {
                path: path.clone(),
                source,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(&path, artifact.content).map_err(io)?;
            written.push(path);
        }
        Ok(written)
    }

    /// The artifacts whose committed copy under `root` differs from what the code generates.
    pub fn drift(&self, root: &Path) -> Result<Vec<String>, GenerateError> {
        Ok(self
            .artifacts()?
            .into_iter()
            .filter(|a| {
                std::fs::read_to_string(root.join(&a.path)).ok().as_deref()
                    != Some(a.content.as_str())
            })
            .map(|a| a.path)
            .collect())
    }
}
