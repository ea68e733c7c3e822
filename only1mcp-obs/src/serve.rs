//! One small HTTP server for the endpoints this crate serves on a port of their own
//! (`/metrics`, health): `TCP_NODELAY` on every connection, graceful shutdown with a deadline.

use axum::Router;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; [`Server::shutdown_within`] stops it.
#[derive(Debug)]
pub(crate) struct Server {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Server {
    /// Binds `addr` and serves `app` on the current tokio runtime; `what` names it in errors.
    pub(crate) async fn bind(addr: SocketAddr, app: Router, what: &str) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot serve {what} on {addr}: {e}")))?;
        let local_addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(crate::metrics::nodelay(listener), app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Server {
            local_addr,
            shutdown: Some(tx),
            task,
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets requests in flight finish for at most `timeout`, then closes what
    /// is still open.
    pub(crate) async fn shutdown_within(mut self, timeout: Duration) -> io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(timeout, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(io::Error::other(e)),
            Err(_) => {
                self.task.abort();
                Ok(())
            }
        }
    }
}
