//! Stdio backends: a child process speaking MCP on its stdin and stdout, its stderr logged line
//! by line. [`crate::upstream::Upstream::supervise`] restarts it when it exits.

use crate::config::Transport;
use rmcp::transport::TokioChildProcess;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Longest stderr line logged; the rest of a longer line is cut.
const MAX_LINE: usize = 4096;

/// Starts the process of the stdio backend `name`; it dies with its transport (and with the
/// aggregator, which holds its stdin).
pub(crate) fn spawn(name: &str, transport: &Transport) -> std::io::Result<TokioChildProcess> {
    let Transport::Stdio {
        command,
        args,
        env,
        cwd,
    } = transport
    else {
        return Err(std::io::Error::other("not a stdio backend"));
    };
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args).envs(env).kill_on_drop(true);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let (child, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()?;
    tracing::info!(backend = %name, pid = child.id(), "backend process started");
    if let Some(stderr) = stderr {
        tokio::spawn(log_stderr(name.to_owned(), stderr));
    }
    Ok(child)
}

/// Logs each line the process writes to stderr, cut to [`MAX_LINE`] bytes.
async fn log_stderr(backend: String, stderr: tokio::process::ChildStderr) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bounded: a line without an end is read in pieces of MAX_LINE.
        let read = (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\r', '\n']);
                tracing::info!(backend = %backend, line = %text, "backend stderr");
            }
        }
    }
}
