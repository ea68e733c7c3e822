//! The seed design's six alerts, as policies on the catalogue's families. Every label and closed
//! value is named through the families' typed references, so renaming a label or a value breaks
//! the build here, not the rules in production. The objectives' burn-rate alerts are not listed:
//! they are generated from the `objectives` declared on the families.

use super::{
    API_COST_DOLLARS, BACKEND_HEALTH_STATUS, BACKEND_LATENCY, CONTEXT_CACHE_HIT_RATIO, CacheType,
    CostOperation, MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL, MEMORY_USAGE_BYTES, McpMethod,
    MemoryType, RequestStatus, TransportType,
};
use crate::LabelValue;
use crate::metrics::alert::{AlertCase, AlertPolicy, Firing, Input, histogram_at, p99_by, rate_by};

/// The rule group of the seed design's alerts.
const GROUP: &str = "only1mcp_sla";
const PLATFORM_WARNING: &[(&str, &str)] = &[("severity", "warning"), ("team", "platform")];
const PLATFORM_CRITICAL: &[(&str, &str)] = &[("severity", "critical"), ("team", "platform")];

/// The seed design's alerts, in its order.
pub fn alerts() -> Vec<AlertPolicy> {
    vec![
        high_latency(),
        high_errors(),
        low_cache(),
        high_cost(),
        backend_down(),
        high_memory(),
    ]
}

/// The label set of a request to the `github` backend's `tools/call`, used by the cases.
fn github_tools_call(server_id: String, method: String) -> String {
    format!("{server_id},{method}")
}

/// `HighP99Latency`: the p99 of every request above the 100 ms SLA for 2 minutes.
fn high_latency() -> AlertPolicy {
    let duration = MCP_REQUEST_DURATION.promql();
    let labels = MCP_REQUEST_DURATION.label_refs();
    let (server_id, method) = (labels.server_id.name(), labels.method.name());
    let series = github_tools_call(
        labels.server_id.is_named("github"),
        labels.method.is(McpMethod::ToolsCall),
    );
    AlertPolicy {
        group: GROUP,
        name: "HighP99Latency",
        expr: format!(
            "histogram_quantile(0.99, sum by (le) (rate({}[5m]))) > 0.1",
            duration.bucket()
        ),
        for_: "2m",
        labels: PLATFORM_WARNING,
        summary: "P99 latency exceeds 100ms (current: {{ $value | humanizeDuration }})",
        description: "P99 latency has been above the 100ms SLA threshold for 2 minutes.\nThis may indicate backend performance issues or network problems.",
        steps: &[
            "Find the backend and method that are slow: the p99 by backend and method above.",
            "If one backend stands out, open its traces in the trace backend (the latency panel's exemplars link to them) and check the backend itself.",
            "If every backend is slow, look at the proxy: CPU and memory on the System dashboard, and the export queue (`only1mcp_obs_spans_dropped_total`).",
            "If the traffic grew, compare the request rate with the last day.",
        ],
        queries: vec![
            (
                "p99 by backend and method",
                p99_by(duration, &[server_id, method]),
            ),
            (
                "request rate by backend",
                rate_by(
                    MCP_REQUESTS_TOTAL.promql(),
                    &[MCP_REQUESTS_TOTAL.label_refs().server_id.name()],
                ),
            ),
        ],
        cases: vec![
            AlertCase::fires(
                "requests answered in 0.25-0.5 s",
                histogram_at(duration, &series, 0.5, 10, 20),
                "10m",
                Firing::showing("497.5ms"),
            ),
            AlertCase::silent(
                "requests answered within 50 ms",
                histogram_at(duration, &series, 0.05, 10, 20),
                "10m",
            ),
        ],
    }
}

/// `HighErrorRate`: more than 1% of the requests failing for 3 minutes.
fn high_errors() -> AlertPolicy {
    let total = MCP_REQUESTS_TOTAL.promql().name();
    let labels = MCP_REQUESTS_TOTAL.label_refs();
    let failed = labels.status.failed();
    let (sid, m) = (labels.server_id.name(), labels.method.name());
    AlertPolicy {
        group: GROUP,
        name: "HighErrorRate",
        expr: format!("sum(rate({total}{{{failed}}}[5m])) / sum(rate({total}[5m])) > 0.01"),
        for_: "3m",
        labels: &[
            ("severity", "critical"),
            ("team", "platform"),
            ("page", "true"),
        ],
        summary: "Error rate exceeds 1% (current: {{ $value | humanizePercentage }})",
        description: "The error rate has exceeded the 1% SLA threshold.\nCheck backend health and recent deployments.",
        steps: &[
            "Find which backend and method fail: the error ratio by backend and method above.",
            "Check that backend's health (`BackendDown`, the Backends dashboard) and its logs; the aggregator logs each failed call with its trace id.",
            "If the errors started with a deployment or a configuration change, roll it back.",
            "If one tool fails for every client, the backend answers it with errors: open a failing call's trace.",
        ],
        queries: vec![
            (
                "error ratio by backend and method",
                format!(
                    "sum by ({sid}, {m}) (rate({total}{{{failed}}}[5m])) / sum by ({sid}, {m}) (rate({total}[5m]))"
                ),
            ),
            (
                "requests by status",
                rate_by(MCP_REQUESTS_TOTAL.promql(), &[labels.status.name()]),
            ),
        ],
        cases: vec![
            AlertCase::fires(
                "half the requests fail",
                high_errors_input(1),
                "10m",
                Firing::showing("50%"),
            ),
            AlertCase::silent("no request fails", high_errors_input(0), "10m"),
        ],
    }
}

/// `errors_per_minute` failed requests and one successful request a minute.
fn high_errors_input(errors_per_minute: u32) -> Vec<Input> {
    let total = MCP_REQUESTS_TOTAL.promql().name();
    let labels = MCP_REQUESTS_TOTAL.label_refs();
    let request = github_tools_call(
        labels.server_id.is_named("github"),
        labels.method.is(McpMethod::ToolsCall),
    );
    let with = |status| format!("{total}{{{request},{}}}", labels.status.is(status));
    vec![
        Input::new(
            with(RequestStatus::Error),
            format!("0+{errors_per_minute}x20"),
        ),
        Input::new(with(RequestStatus::Success), "0+1x20"),
    ]
}

/// `LowCacheHitRate`: the average cache hit ratio below 50% for 10 minutes.
fn low_cache() -> AlertPolicy {
    let cache = CONTEXT_CACHE_HIT_RATIO.promql().name();
    let cache_type = CONTEXT_CACHE_HIT_RATIO.label_refs().cache_type;
    let series = format!("{cache}{{{}}}", cache_type.is(CacheType::ToolResult));
    AlertPolicy {
        group: GROUP,
        name: "LowCacheHitRate",
        expr: format!("avg({cache}) < 0.5"),
        for_: "10m",
        labels: PLATFORM_WARNING,
        summary: "Cache hit rate below 50% (current: {{ $value | humanizePercentage }})",
        description: "Low cache hit rate indicates inefficient context optimization.\nConsider reviewing cache configuration and TTL settings.",
        steps: &[
            "See which cache is missing: the hit ratio by cache type above.",
            "Check the `cache:` section of the configuration: a short `ttl_seconds` or a small `max_entries`/`max_bytes` evicts entries before they are reused.",
            "Check that the tools called are cacheable (read-only or idempotent annotations, or listed under `cache.tools`).",
            "A change in traffic (many distinct arguments) lowers the ratio without anything being wrong.",
        ],
        queries: vec![(
            "hit ratio by cache type",
            format!("avg by ({}) ({cache})", cache_type.name()),
        )],
        cases: AlertCase::pair(
            &series,
            "20m",
            (
                "a quarter of lookups hit",
                "0.25x30",
                Firing::showing("25%"),
            ),
            ("most lookups hit", "0.9x30"),
        ),
    }
}

/// `HighAPICosts`: more than $100 of API spending in the last hour.
fn high_cost() -> AlertPolicy {
    let cost = API_COST_DOLLARS.promql().name();
    let labels = API_COST_DOLLARS.label_refs();
    let requests = MCP_REQUESTS_TOTAL.label_refs();
    let series = format!(
        "{cost}{{{},{},{}}}",
        labels.provider.is_named("anthropic"),
        labels.model.is_named("claude"),
        labels.operation.is(CostOperation::Completion)
    );
    AlertPolicy {
        group: GROUP,
        name: "HighAPICosts",
        expr: format!("sum(increase({cost}[1h])) > 100"),
        for_: "1m",
        labels: &[("severity", "warning"), ("team", "finance")],
        summary: "API costs exceed $100/hour (current: ${{ $value | humanize }})",
        description: "Unusual API spending detected. Check for:\n- Runaway processes\n- Inefficient tool usage\n- Missing rate limits",
        steps: &[
            "Find the provider, model and operation that spend: the hourly cost by them above.",
            "Look for a client or tool calling in a loop: the request rate by backend and method.",
            "Apply a rate limit or a cheaper model for that operation; raise the threshold only if the spend is expected.",
        ],
        queries: vec![
            (
                "cost in the last hour by provider, model and operation",
                format!(
                    "sum by ({}, {}, {}) (increase({cost}[1h]))",
                    labels.provider.name(),
                    labels.model.name(),
                    labels.operation.name()
                ),
            ),
            (
                "request rate by backend and method",
                rate_by(
                    MCP_REQUESTS_TOTAL.promql(),
                    &[requests.server_id.name(), requests.method.name()],
                ),
            ),
        ],
        cases: AlertCase::pair(
            &series,
            "90m",
            ("$10 a minute", "0+10x120", Firing::showing("600")),
            ("$1 a minute", "0+1x120"),
        ),
    }
}

/// `BackendDown`: a backend failing its health probes for 1 minute.
fn backend_down() -> AlertPolicy {
    let health = BACKEND_HEALTH_STATUS.promql().name();
    let labels = BACKEND_HEALTH_STATUS.label_refs();
    let transport = TransportType::Stdio;
    let series = format!(
        "{health}{{{},{}}}",
        labels.server_id.is_named("github"),
        labels.transport_type.is(transport)
    );
    let firing = Firing {
        labels: vec![
            (labels.server_id.name(), "github".to_owned()),
            (labels.transport_type.name(), transport.as_str().to_owned()),
        ],
        value: "",
    };
    AlertPolicy {
        group: GROUP,
        name: "BackendDown",
        expr: format!("{health} == 0"),
        for_: "1m",
        labels: PLATFORM_CRITICAL,
        summary: "Backend server {{ $labels.server_id }} is down",
        description: "The backend server has failed health checks for 1 minute.\nTraffic is being routed to other servers.",
        steps: &[
            "Confirm which backend: the alert's `server_id` label, and the readiness report at `/health/ready`.",
            "Check the backend's process (stdio: the aggregator logs its stderr and restarts) or its URL (HTTP) directly.",
            "Look at the probe latency above: probes that time out point at a hung backend rather than a dead one.",
            "Calls to other backends are unaffected; calls to this one fail until it is back.",
        ],
        queries: vec![
            ("backends down", format!("{health} == 0")),
            (
                "probe latency by backend",
                p99_by(
                    BACKEND_LATENCY.promql(),
                    &[BACKEND_LATENCY.label_refs().server_id.name()],
                ),
            ),
        ],
        cases: AlertCase::pair(
            &series,
            "5m",
            ("a backend fails its probes", "0x10", firing),
            ("a backend is up", "1x10"),
        ),
    }
}

/// `HighMemoryUsage`: resident memory above 2 GiB for 5 minutes.
fn high_memory() -> AlertPolicy {
    let memory = MEMORY_USAGE_BYTES.promql().name();
    let memory_type = MEMORY_USAGE_BYTES.label_refs().r#type;
    let resident = format!("{memory}{{{}}}", memory_type.is(MemoryType::Resident));
    let gib = format!("sum({resident}) / (1024 * 1024 * 1024)");
    AlertPolicy {
        group: GROUP,
        name: "HighMemoryUsage",
        expr: format!("{gib} > 2"),
        for_: "5m",
        labels: PLATFORM_WARNING,
        summary: "Resident memory exceeds 2 GiB (current: {{ $value | humanize }} GiB)",
        description: "High memory usage detected. Consider:\n- Cache size limits\n- Connection pool size\n- Memory leaks",
        steps: &[
            "See whether memory grows steadily (a leak or an unbounded cache) or jumped with traffic: the resident memory over the last day above.",
            "Check the cache bounds (`cache.max_entries`, `cache.max_bytes`) and the span export queue (`tracing.batch.max_queue_size`, `max_queue_bytes`).",
            "Restart the aggregator if it keeps growing, and report the growth with the metrics above.",
        ],
        queries: vec![
            ("resident memory, GiB", gib),
            (
                "memory by type",
                format!("sum by ({}) ({memory})", memory_type.name()),
            ),
        ],
        cases: AlertCase::pair(
            &resident,
            "10m",
            ("3 GiB resident", "3221225472x15", Firing::showing("3")),
            ("1 GiB resident", "1073741824x15"),
        ),
    }
}
