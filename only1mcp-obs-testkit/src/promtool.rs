//! The real `promtool`, from the Debian `prometheus` package, with structured results.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What to install when `promtool` is missing.
pub const INSTALL_HINT: &str = "promtool not found on PATH: install the Debian package `prometheus` \
     (apt-get install prometheus), or set PROMTOOL to its path";

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

/// Path of the promtool binary: `$PROMTOOL`, else `promtool` on PATH.
pub fn path() -> io::Result<PathBuf> {
    if let Some(p) = std::env::var_os("PROMTOOL") {
        return Ok(PathBuf::from(p));
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, INSTALL_HINT))
}

/// Runs `promtool ARGS` with `stdin` on standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> io::Result<Outcome> {
    let mut child = Command::new(path()?)
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

/// `promtool check rules FILES`: the rule files parse and every expression is valid.
pub fn check_rules(files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_on_files(&["check", "rules"], files)
}

/// `promtool test rules FILES`: runs rule unit tests.
pub fn test_rules(files: &[&std::path::Path]) -> io::Result<Outcome> {
    run_on_files(&["test", "rules"], files)
}

fn run_on_files(subcommand: &[&str], files: &[&std::path::Path]) -> io::Result<Outcome> {
    let paths: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = subcommand
        .iter()
        .copied()
        .chain(paths.iter().map(String::as_str))
        .collect();
    run(&args, b"")
}

/// `amtool check-config FILE` (from the Debian `prometheus-alertmanager` package).
pub fn amtool_check_config(file: &std::path::Path) -> io::Result<Outcome> {
    let output = Command::new("amtool")
        .arg("check-config")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("amtool: {e}: install the Debian package `prometheus-alertmanager`"),
            )
        })?;
    Ok(Outcome {
        success: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
