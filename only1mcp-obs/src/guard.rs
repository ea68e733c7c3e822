//! The checks in front of `/metrics` and the health endpoints: the same `Host` validation MCP's
//! Streamable HTTP transport does against DNS rebinding (a web page that makes a browser send
//! requests to a name resolving to 127.0.0.1), and an optional bearer token for `/metrics`.

/// The hosts a loopback server answers to by default.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The default `allowed_hosts`: the loopback names.
pub fn loopback_hosts() -> Vec<String> {
    LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect()
}

#[cfg(feature = "server")]
pub use checks::Guard;
#[cfg(feature = "server")]
pub(crate) use checks::guarded;

/// The middleware and its checks, on axum (the `server` feature).
#[cfg(feature = "server")]
mod checks {
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use http::{HeaderMap, header};
    use std::path::Path;
    use std::sync::Arc;

    /// What a request must show to be answered.
    #[derive(Debug, Clone, Default)]
    pub struct Guard {
        /// Host names, or `host:port` authorities; empty allows any `Host`.
        hosts: Arc<[String]>,
        /// `Authorization: Bearer <token>` required when set.
        token: Option<Arc<str>>,
    }

    impl Guard {
        /// Allows these hosts (names match any port; `name:port` only that port).
        pub fn new(hosts: &[String]) -> Self {
            Guard {
                hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                token: None,
            }
        }

        /// Also requires the bearer token stored in `path` (surrounding whitespace ignored).
        pub fn with_token_file(mut self, path: &Path) -> std::io::Result<Self> {
            let token = std::fs::read_to_string(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
            })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} holds no token", path.display()),
                ));
            }
            self.token = Some(token.into());
            Ok(self)
        }

        fn host_allowed(&self, headers: &HeaderMap) -> bool {
            if self.hosts.is_empty() {
                return true;
            }
            // DNS rebinding comes from browsers, which always send `Host`; a request without one
            // (an in-process call, an HTTP/1.0 probe) is not that attack.
            let Some(host) = headers.get(header::HOST) else {
                return true;
            };
            let Ok(authority) = host.to_str() else {
                return false;
            };
            let authority = authority.to_ascii_lowercase();
            let (host, port) = split_authority(&authority);
            self.hosts.iter().any(|allowed| {
                let (allowed_host, allowed_port) = split_authority(allowed);
                allowed_host == host && allowed_port.is_none_or(|p| Some(p) == port)
            })
        }

        fn token_ok(&self, headers: &HeaderMap) -> bool {
            let Some(expected) = &self.token else {
                return true;
            };
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            constant_time_eq(given.as_bytes(), expected.as_bytes())
        }
    }

    /// `host[:port]`, `[v6]:port` or a bare v6 address, split.
    fn split_authority(authority: &str) -> (&str, Option<&str>) {
        if let Some(rest) = authority.strip_prefix('[') {
            return match rest.split_once(']') {
                Some((host, tail)) => (host, tail.strip_prefix(':')),
                None => (rest, None),
            };
        }
        match authority.rsplit_once(':') {
            // More than one colon: a bare IPv6 address.
            Some((host, _)) if host.contains(':') => (authority, None),
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    }

    fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The middleware: 403 for a `Host` not allowed, 401 without the token.
    pub(crate) async fn check(
        State(guard): State<Guard>,
        request: Request,
        next: Next,
    ) -> Response {
        if !guard.host_allowed(request.headers()) {
            return (StatusCode::FORBIDDEN, "Host not allowed\n").into_response();
        }
        if !guard.token_ok(request.headers()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "bearer token required\n",
            )
                .into_response();
        }
        next.run(request).await
    }

    /// `router` behind `guard`.
    pub(crate) fn guarded<S: Clone + Send + Sync + 'static>(
        router: axum::Router<S>,
        guard: Guard,
    ) -> axum::Router<S> {
        router.layer(axum::middleware::from_fn_with_state(guard, check))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::guard::loopback_hosts;

        fn headers(host: &str) -> HeaderMap {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, host.parse().expect("header"));
            h
        }

        #[test]
        fn loopback_names_with_any_port_pass_and_other_names_do_not() {
            let guard = Guard::new(&loopback_hosts());
            for ok in [
                "localhost",
                "127.0.0.1:9090",
                "[::1]:80",
                "LOCALHOST:1",
                "::1",
            ] {
                assert!(guard.host_allowed(&headers(ok)), "{ok}");
            }
            for bad in [
                "evil.example",
                "evil.example:9090",
                "127.0.0.1.evil.example",
                "localhost.:1",
            ] {
                assert!(!guard.host_allowed(&headers(bad)), "{bad}");
            }
            assert!(
                guard.host_allowed(&HeaderMap::new()),
                "no Host: not a browser"
            );
            let pinned = Guard::new(&["metrics.internal:9090".to_owned()]);
            assert!(pinned.host_allowed(&headers("metrics.internal:9090")));
            assert!(!pinned.host_allowed(&headers("metrics.internal:9091")));
        }
    }
}
