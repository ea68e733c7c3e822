//! `/metrics` over HTTP with axum, on 127.0.0.1 unless configured otherwise (the `server`
//! feature).

use super::MetricsConfig;
use super::registry::encode;
use super::text::Format;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// An axum router serving the exposition page of every registered family at `path`, to
/// requests whose `Host` is a loopback name (see [`router_for`] for other hosts and a token).
///
/// Merge it into an existing application:
///
/// ```
/// let app: axum::Router = axum::Router::new().merge(only1mcp_obs::metrics::router("/metrics"));
/// ```
pub fn router(path: &str) -> Router {
    let guard = crate::guard::Guard::new(&crate::guard::loopback_hosts());
    crate::guard::guarded(Router::new().route(path, get(metrics_page)), guard)
}

/// The `/metrics` route of `config`: its path, behind its `allowed_hosts` and, when
/// `bearer_token_file` is set, its token. Fails when the token file cannot be read.
///
/// ```
/// use only1mcp_obs::metrics::{MetricsConfig, router_for};
/// let dir = std::env::temp_dir().join(format!("token-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("token"), "s3cret\n").unwrap();
/// let config = MetricsConfig { bearer_token_file: Some(dir.join("token")), ..Default::default() };
/// let app: axum::Router = router_for(&config).unwrap();
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
pub fn router_for(config: &MetricsConfig) -> io::Result<Router> {
    let mut guard = crate::guard::Guard::new(&config.allowed_hosts);
    if let Some(file) = &config.bearer_token_file {
        guard = guard.with_token_file(file)?;
    }
    Ok(crate::guard::guarded(
        Router::new().route(&config.path, get(metrics_page)),
        guard,
    ))
}

/// The page in the format the scraper asks for: OpenMetrics (with exemplars) when its `Accept`
/// lists it, as Prometheus' does; the text format otherwise.
async fn metrics_page(headers: axum::http::HeaderMap) -> impl IntoResponse {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    (
        [(header::CONTENT_TYPE, format.content_type())],
        encode(format),
    )
}

/// A running `/metrics` server; [`MetricsServer::shutdown`] stops it.
#[derive(Debug)]
pub struct MetricsServer {
    server: crate::serve::Server,
    path: String,
}

impl MetricsServer {
    /// Binds `config.address:config.port` and serves `/metrics` on the current tokio runtime.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use only1mcp_obs::metrics::{MetricsConfig, MetricsServer};
    /// let server = MetricsServer::bind(&MetricsConfig { port: 0, ..MetricsConfig::default() }).await?;
    /// println!("scrape {}", server.url());
    /// server.shutdown().await
    /// # }
    /// ```
    pub async fn bind(config: &MetricsConfig) -> io::Result<Self> {
        let addr = SocketAddr::new(config.address, config.port);
        let server = crate::serve::Server::bind(addr, router_for(config)?, "metrics").await?;
        Ok(MetricsServer {
            server,
            path: config.path.clone(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The page's URL, e.g. `http://127.0.0.1:9090/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr(), self.path)
    }

    /// Stops accepting connections and waits (at most 5 s) for the server task.
    pub async fn shutdown(self) -> io::Result<()> {
        self.server.shutdown_within(Duration::from_secs(5)).await
    }

    /// Stops accepting, lets requests in flight finish for at most `timeout`, then closes what
    /// is still open (a client that never finishes its request cannot hold shutdown).
    pub async fn shutdown_within(self, timeout: Duration) -> io::Result<()> {
        self.server.shutdown_within(timeout).await
    }
}

/// `listener` with `TCP_NODELAY` set on every accepted connection.
///
/// A response written in several small pieces (headers, then body; or the events of an SSE
/// stream) otherwise waits for the peer's delayed ACK (Nagle's algorithm) on a kept-alive
/// connection: about 40 ms per request on Linux. Serve with it whatever answers on a keep-alive
/// connection:
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let app = only1mcp_obs::metrics::router("/metrics");
/// axum::serve(only1mcp_obs::metrics::nodelay(listener), app).await
/// # }
/// ```
pub fn nodelay(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt as _;
    listener.tap_io(set_nodelay as fn(&mut tokio::net::TcpStream))
}

fn set_nodelay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
}
