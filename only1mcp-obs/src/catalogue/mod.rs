//! The Only1MCP metric catalogue: the seed design's eleven families under their original names
//! and buckets, plus the four histograms of the OpenTelemetry MCP semantic conventions.
//!
//! The label types are always here; the families need the `catalogue` feature (on by default).
//! A crate built without it instruments its functions all the same and registers none of these
//! families (see [`CallMetrics`](crate::trace::CallMetrics)).
//!
//! Every label has an explicit, bounded domain (the seed used free strings everywhere):
//!
//! | label | domain |
//! |---|---|
//! | `server_id` | [`ServerId`]: dynamic, at most 32 backends, overflow `_other` |
//! | `method`, `mcp_method_name` | [`McpMethod`]: the MCP methods, `_other` for anything else |
//! | `status` | [`RequestStatus`]: `success`, `tool_error`, `error`, `timeout`, `cancelled` |
//! | `error_type` | `Option<`[`ErrorType`]`>`: absent on success; a JSON-RPC code, `tool_error`, or `_OTHER` |
//! | `gen_ai_tool_name` | `Option<`[`ToolName`]`>`: dynamic, at most 32 tools, overflow `_other` |
//! | `optimization_type` | [`OptimizationType`]: `cache_hit`, `deduplication`, `compression` |
//! | `cache_type` | [`CacheType`]: `tool_result`, `resource_fetch`, `prompt_template` |
//! | `transport_type` | [`TransportType`]: `stdio`, `streamable_http`, `sse`, `websocket` |
//! | `network_transport` | [`NetworkTransport`]: `pipe` (stdio), `tcp` (HTTP) |
//! | `endpoint` | [`ProbeEndpoint`]: the MCP request or HTTP path a health probe used |
//! | `state` | [`PoolState`]: `active`, `idle`, `pending` |
//! | `provider`, `model` | [`Provider`] (at most 8), [`Model`] (at most 24): dynamic |
//! | `operation` | [`CostOperation`]: `completion`, `embedding`, `tool_call`, `summarization` |
//! | `type` | [`MemoryType`]: `resident`, `virtual`, `cache`; the process's own memory |
//! | `core` | [`CpuCore`]: dynamic, `process` for the whole process or a core number |
//! | `check` | [`HealthCheck`]: dynamic, the registered readiness checks (at most 16) |
//!
//! The design's six alerts are policies declared here, on these families, with their typed label
//! references: [`alerts`] (with the `catalogue` feature).
//!
//! The `status` label and the seed's `HighErrorRate` alert: the seed matched `status=~"5.."`,
//! but this label never holds an HTTP code. [`RequestStatus`] marks `error` and `timeout` as
//! failures (`#[label(error)]`); generated alerts read that mark instead of a regex.

use crate::{LabelValue, metrics};

#[cfg(feature = "catalogue")]
mod alerts;
#[cfg(feature = "catalogue")]
pub use alerts::alerts;

only1mcp_obs_macros::__mcp_method_enum!();

impl McpMethod {
    /// The method named `name`, or [`McpMethod::Other`].
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .unwrap_or(McpMethod::Other)
    }
}

/// How an MCP request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum RequestStatus {
    /// A result was returned.
    Success,
    /// The tool ran and reported failure (`isError: true`): a valid answer, not a proxy failure.
    ToolError,
    /// A JSON-RPC error response or a transport failure. Counts against the error objective.
    #[label(error)]
    Error,
    /// No answer in time. Counts against the error objective.
    #[label(error)]
    Timeout,
    /// The client cancelled the request.
    Cancelled,
}

/// The kind of context optimization that saved tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum OptimizationType {
    CacheHit,
    Deduplication,
    Compression,
}

/// The cache a hit ratio is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum CacheType {
    ToolResult,
    ResourceFetch,
    PromptTemplate,
}

/// How the aggregator talks to a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum TransportType {
    Stdio,
    StreamableHttp,
    Sse,
    Websocket,
}

/// `network.transport` of the semantic conventions: `pipe` for stdio, `tcp` for HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum NetworkTransport {
    Pipe,
    Tcp,
}

/// What a backend health probe sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum ProbeEndpoint {
    /// An MCP `ping` request.
    #[label(value = "ping")]
    Ping,
    /// An MCP `initialize` handshake.
    #[label(value = "initialize")]
    Initialize,
    /// An MCP `tools/list` request.
    #[label(value = "tools/list")]
    ToolsList,
    /// An HTTP GET of the backend's health path.
    #[label(value = "http_health")]
    HttpHealth,
}

/// The state of a pooled backend connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum PoolState {
    Active,
    Idle,
    Pending,
}

/// The kind of operation an API cost was incurred for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum CostOperation {
    Completion,
    Embedding,
    ToolCall,
    Summarization,
}

/// Which memory of the process: the seed reported system-wide used memory as "heap"; this is the
/// process's own resident and virtual size, and the size of the context cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
#[allow(missing_docs)]
pub enum MemoryType {
    Resident,
    Virtual,
    Cache,
}

metrics! {
    /// Backend server id, as configured. An aggregator fronts a handful of backends; 32 leaves room.
    pub dynamic ServerId { max: 32, overflow: "_other" }

    /// `error.type` of the semantic conventions: a JSON-RPC error code as a string (`-32603`),
    /// `tool_error`, or `_OTHER`. Past 16 distinct values, `_overflow`: never a real value, so
    /// an unclassified error (`_OTHER`) is not counted as an overflow.
    pub dynamic ErrorType { max: 16, overflow: "_overflow" }

    /// `gen_ai.tool.name`: tool names come from backends and clients, so they are bounded.
    pub dynamic ToolName { max: 32, overflow: "_other" }

    /// An API provider, such as `anthropic`.
    pub dynamic Provider { max: 8, overflow: "_other" }

    /// A model name.
    pub dynamic Model { max: 24, overflow: "_other" }

    /// `process` for the whole process, or a CPU core number.
    pub dynamic CpuCore { max: 256, overflow: "_other", max_len: 16 }

    /// A readiness check, by the name it was registered under with `Health::register`.
    pub dynamic HealthCheck { max: 16, overflow: "_other" }
}

// The families themselves, with the `catalogue` feature: without it a binary registers none
// of them, and instrumented calls record where `Runtime::with_call_metrics` says.
#[cfg(feature = "catalogue")]
metrics! {
    /// Total number of MCP requests processed.
    pub counter MCP_REQUESTS_TOTAL = "only1mcp_mcp_requests_total" {
        labels: { server_id: ServerId, method: McpMethod, status: RequestStatus },
        budget: 5000,
        // The seed design's availability target: more than 99.9% of requests succeed.
        objectives: [availability(99.9)],
    }

    /// MCP request duration in seconds.
    pub histogram MCP_REQUEST_DURATION = "only1mcp_mcp_request_duration_seconds" {
        unit: seconds,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
        labels: { server_id: ServerId, method: McpMethod },
        // 33 x 26 label sets x 15 series: 12 870 lines at most.
        budget: 13000,
        // The seed design's latency target (p99 under 100 ms): 99% of requests within 0.1 s.
        objectives: [latency(0.1, 99.0)],
    }

    /// Total tokens saved through optimization.
    pub counter CONTEXT_TOKENS_SAVED = "only1mcp_context_tokens_saved_total" {
        labels: { optimization_type: OptimizationType },
    }

    /// Cache hit ratio for context optimization (0-1).
    pub gauge CONTEXT_CACHE_HIT_RATIO = "only1mcp_context_cache_hit_ratio" {
        unit: ratio,
        labels: { cache_type: CacheType },
    }

    /// Health status of backend servers (0=down, 1=up).
    pub gauge BACKEND_HEALTH_STATUS = "only1mcp_backend_health_status" {
        labels: { server_id: ServerId, transport_type: TransportType },
    }

    /// Backend server response latency.
    pub histogram BACKEND_LATENCY = "only1mcp_backend_latency_seconds" {
        unit: seconds,
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
        labels: { server_id: ServerId, endpoint: ProbeEndpoint },
        budget: 1500,
    }

    /// Current size of connection pool.
    pub gauge CONNECTION_POOL_SIZE = "only1mcp_connection_pool_size" {
        labels: { server_id: ServerId, state: PoolState },
    }

    /// Connection reuse ratio (0-1).
    pub gauge CONNECTION_REUSE_RATIO = "only1mcp_connection_reuse_ratio" {
        unit: ratio,
        labels: { server_id: ServerId },
    }

    /// Cumulative API costs in dollars.
    pub counter API_COST_DOLLARS = "only1mcp_api_cost_dollars_total" {
        unit: dollars,
        labels: { provider: Provider, model: Model, operation: CostOperation },
    }

    /// Memory usage of the process in bytes.
    pub gauge MEMORY_USAGE_BYTES = "only1mcp_memory_usage_bytes" {
        unit: bytes,
        labels: { r#type: MemoryType },
    }

    /// CPU usage percentage (100 = one core busy), measured per interval from the process's CPU time.
    pub gauge CPU_USAGE_PERCENT = "only1mcp_cpu_usage_percent" {
        unit: percent,
        labels: { core: CpuCore },
    }

    /// Duration of MCP requests sent to a server (`mcp.client.operation.duration`).
    pub histogram MCP_CLIENT_OPERATION_DURATION = "mcp_client_operation_duration_seconds" {
        unit: seconds,
        buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0],
        labels: { mcp_method_name: McpMethod, error_type: Option<ErrorType>, gen_ai_tool_name: Option<ToolName> },
        // 26 x 18 x 34 label sets x 17 series: 270 504 lines if every method failed with
        // every error on every tool; a few hundred in practice.
        budget: 280000,
    }

    /// Duration of MCP requests handled as a server (`mcp.server.operation.duration`).
    pub histogram MCP_SERVER_OPERATION_DURATION = "mcp_server_operation_duration_seconds" {
        unit: seconds,
        buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0],
        labels: { mcp_method_name: McpMethod, error_type: Option<ErrorType>, gen_ai_tool_name: Option<ToolName> },
        // 26 x 18 x 34 label sets x 17 series: 270 504 lines if every method failed with
        // every error on every tool; a few hundred in practice.
        budget: 280000,
    }

    /// Duration of MCP sessions as a client (`mcp.client.session.duration`).
    pub histogram MCP_CLIENT_SESSION_DURATION = "mcp_client_session_duration_seconds" {
        unit: seconds,
        buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0],
        labels: { error_type: Option<ErrorType>, network_transport: NetworkTransport },
    }

    /// Duration of MCP sessions as a server (`mcp.server.session.duration`).
    pub histogram MCP_SERVER_SESSION_DURATION = "mcp_server_session_duration_seconds" {
        unit: seconds,
        buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0],
        labels: { error_type: Option<ErrorType>, network_transport: NetworkTransport },
    }

    /// Whether a readiness check passed (1) or failed or timed out (0) when it last ran.
    pub gauge HEALTH_CHECK_STATUS = "only1mcp_health_check_status" {
        labels: { check: HealthCheck },
    }

    /// How long a readiness check took when it last ran, in seconds (its timeout when it timed out).
    pub gauge HEALTH_CHECK_DURATION = "only1mcp_health_check_duration_seconds" {
        unit: seconds,
        labels: { check: HealthCheck },
    }
}
