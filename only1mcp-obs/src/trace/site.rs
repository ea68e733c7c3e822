//! Call sites: the static descriptor `#[mcp_instrumented]` registers for each function, and
//! the series a site resolves once.

use crate::catalogue::{McpMethod, ServerId, ToolName};
use std::sync::OnceLock;

/// Whether a call is made to a backend or received from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A call to a backend server (span kind CLIENT, `mcp_client_operation_duration_seconds`).
    Client,
    /// A call received from a client (span kind SERVER, `mcp_server_operation_duration_seconds`).
    Server,
}

/// The level of the line logged for a successful call (when `log_calls` is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CallLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Describes one instrumented function; every one is registered at link time (see
/// [`call_sites`]), so dashboards can have a row per instrumented function.
#[derive(Debug)]
pub struct CallSite {
    /// The function's name.
    pub function: &'static str,
    /// Its module.
    pub module_path: &'static str,
    /// Its source file.
    pub file: &'static str,
    /// Its line.
    pub line: u32,
    /// The MCP method when it is known at compile time.
    pub method: Option<&'static str>,
    /// Client or server.
    pub kind: CallKind,
    /// Level of the success line.
    pub level: CallLevel,
    /// Names of the fields it records.
    pub fields: &'static [&'static str],
    #[doc(hidden)]
    pub cache: SiteCache,
}

/// The series a call site resolved for its first successful call; later calls with the same
/// labels reuse them instead of resolving again.
#[doc(hidden)]
#[derive(Debug)]
#[cfg_attr(not(feature = "catalogue"), allow(dead_code))]
pub struct SiteCache {
    pub(crate) series: OnceLock<CachedSeries>,
}

#[derive(Debug)]
#[cfg_attr(not(feature = "catalogue"), allow(dead_code))]
pub(crate) struct CachedSeries {
    pub(crate) server: ServerId,
    pub(crate) method: McpMethod,
    pub(crate) tool: Option<ToolName>,
    pub(crate) operation: &'static crate::Histogram,
    pub(crate) duration: &'static crate::Histogram,
    pub(crate) success: &'static crate::Counter,
}

impl SiteCache {
    /// An empty cache.
    pub const fn new() -> Self {
        SiteCache {
            series: OnceLock::new(),
        }
    }
}

impl Default for SiteCache {
    fn default() -> Self {
        SiteCache::new()
    }
}

pub use sites::CALL_SITES;

// linkme places the elements with `#[link_section]`, which the `unsafe_code` lint flags.
#[allow(unsafe_code)]
mod sites {
    use super::CallSite;

    /// Every instrumented function of the binary.
    #[doc(hidden)]
    #[linkme::distributed_slice]
    pub static CALL_SITES: [&'static CallSite];
}

/// Every function instrumented with `#[mcp_instrumented]` in the binary, sorted by module and name.
pub fn call_sites() -> Vec<&'static CallSite> {
    let mut sites: Vec<_> = CALL_SITES.iter().copied().collect();
    sites.sort_by_key(|s| (s.module_path, s.function, s.line));
    sites
}
