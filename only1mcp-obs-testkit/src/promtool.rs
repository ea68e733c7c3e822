//! The real `promtool` and `amtool` of either [`Generation`] (built from the pinned modules, or
//! Debian's), with structured results. The functions without a generation use
//! `ONLY1MCP_TESTKIT_GENERATION`'s (and `$PROMTOOL` when set); the `*_with` ones take it.
//!
//! ```no_run
//! use only1mcp_obs_testkit::{generation::Generation, promtool};
//! let page = "# HELP x_total Things.\n# TYPE x_total counter\nx_total 1\n";
//! for generation in Generation::ALL {
//!     let outcome = promtool::check_metrics_with(generation, page).unwrap();
//!     assert!(outcome.success, "{generation}: {:?}", outcome.problems());
//! }
//! ```

use crate::generation::Generation;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What to do when `promtool` is missing.
pub const INSTALL_HINT: &str = "promtool not found: run scripts/build-stack (Prometheus 3) or \
     install the Debian package `prometheus` (Prometheus 2), or set PROMTOOL to its path";

/// The outcome of a `promtool` run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Whether promtool exited 0.
    pub success: bool,
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// Lines promtool printed on either stream, without blank lines.
    pub fn problems(&self) -> Vec<String> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Path of the promtool binary: `$PROMTOOL`, else that of `ONLY1MCP_TESTKIT_GENERATION`.
pub fn path() -> io::Result<PathBuf> {
    if let Some(p) = std::env::var_os("PROMTOOL") {
        return Ok(PathBuf::from(p));
    }
    path_for(Generation::from_env())
}

/// Path of `generation`'s promtool.
pub fn path_for(generation: Generation) -> io::Result<PathBuf> {
    tool(generation, "promtool")
}

fn tool(generation: Generation, name: &str) -> io::Result<PathBuf> {
    let path = generation.binary(name);
    if path.is_file() {
        return Ok(path);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "{name} of {generation} not found at {}: {}",
            path.display(),
            generation.install_hint()
        ),
    ))
}

/// Runs `promtool ARGS` with `stdin` on standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> io::Result<Outcome> {
    run_binary(&path()?, args, stdin)
}

/// Runs `generation`'s `promtool ARGS` with `stdin` on standard input.
pub fn run_with(generation: Generation, args: &[&str], stdin: &[u8]) -> io::Result<Outcome> {
    run_binary(&path_for(generation)?, args, stdin)
}

fn run_binary(binary: &std::path::Path, args: &[&str], stdin: &[u8]) -> io::Result<Outcome> {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin)?;
    }
    let out = child.wait_with_output()?;
    Ok(Outcome {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// `promtool check metrics`: lints an exposition page. A clean page gives `success` and no output.
///
/// ```no_run
/// let page = "# HELP x_total Things.\n# TYPE x_total counter\nx_total 1\n";
/// let outcome = only1mcp_obs_testkit::promtool::check_metrics(page).unwrap();
/// assert!(outcome.success && outcome.problems().is_empty(), "{:?}", outcome.problems());
/// ```
pub fn check_metrics(page: &str) -> io::Result<Outcome> {
    run(&["check", "metrics"], page.as_bytes())
}

/// `promtool check metrics` of `generation`.
pub fn check_metrics_with(generation: Generation, page: &str) -> io::Result<Outcome> {
    run_with(generation, &["check", "metrics"], page.as_bytes())
}

/// `promtool check rules FILES` of `generation`.
pub fn check_rules_with(generation: Generation, files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_with(generation, &file_args(&["check", "rules"], files), b"")
}

/// `promtool test rules FILES` of `generation`.
pub fn test_rules_with(generation: Generation, files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_with(generation, &file_args(&["test", "rules"], files), b"")
}

/// `promtool check rules FILES`: the rule files parse and every expression is valid.
pub fn check_rules(files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_on_files(&["check", "rules"], files)
}

/// `promtool test rules FILES`: runs rule unit tests.
pub fn test_rules(files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_on_files(&["test", "rules"], files)
}

fn run_on_files(subcommand: &[&str], files: &[&std::path::Path]) -> io::Result<Outcome> {
    run(&file_args(subcommand, files), b"")
}

fn file_args<'a>(subcommand: &[&'a str], files: &'a [&std::path::Path]) -> Vec<&'a str> {
    subcommand
        .iter()
        .copied()
        .chain(files.iter().map(|f| f.to_str().unwrap_or_default()))
        .collect()
}

/// `amtool check-config FILE` of `ONLY1MCP_TESTKIT_GENERATION`'s Alertmanager.
pub fn amtool_check_config(file: &std::path::Path) -> io::Result<Outcome> {
    amtool_check_config_with(Generation::from_env(), file)
}

/// `amtool check-config FILE` of `generation`'s Alertmanager.
pub fn amtool_check_config_with(
    generation: Generation,
    file: &std::path::Path,
) -> io::Result<Outcome> {
    let amtool = tool(generation, "amtool")?;
    let file = file.to_str().unwrap_or_default();
    run_binary(&amtool, &["check-config", file], b"")
}
