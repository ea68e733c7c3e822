//! Shared helpers of the end-to-end tests in `tests/`.

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

/// The path of a binary of a workspace package, (re)built so it matches the sources.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .env(
            "CARGO_TARGET_DIR",
            profile_dir.parent().expect("target dir"),
        )
        .status()
        .expect("run cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {bin} failed"
    );
    profile_dir.join(bin)
}

/// The path of an example binary of a workspace package, (re)built so it matches the sources.
/// `cargo test` releases its build lock before running tests, so this nested build is safe and,
/// when `cargo test --workspace` already built the example, a no-op.
pub fn example_binary(package: &str, example: &str) -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/<profile>/examples/<example>
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(example);
    {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--example", example])
            .env(
                "CARGO_TARGET_DIR",
                profile_dir.parent().expect("target dir"),
            )
            .status()
            .expect("run cargo build");
        assert!(
            status.success(),
            "cargo build -p {package} --example {example} failed"
        );
    }
    path
}
