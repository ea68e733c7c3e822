//! Prometheus alert rules, and `promtool test rules` cases for every alert: the seed design's six
//! alerts, and multi-window multi-burn-rate alerts for every objective declared in `metrics!`.

use crate::GenerateError;
use crate::promql::{BadRatio, Family, one_of};
use only1mcp_obs::catalogue::{
    API_COST_DOLLARS, BACKEND_HEALTH_STATUS, BACKEND_LATENCY, CONTEXT_CACHE_HIT_RATIO,
    MCP_REQUEST_DURATION, MCP_REQUESTS_TOTAL, MEMORY_USAGE_BYTES,
};
use only1mcp_obs::metrics::text::format_float;
use only1mcp_obs::metrics::{FamilyDesc, Objective, families};
use serde_json::{Map, Value, json};

/// One input series of a rule test: selector and `promtool` value notation.
#[derive(Debug, Clone)]
pub struct Input {
    /// The series, e.g. `up{job="x"}`.
    pub series: String,
    /// Values, e.g. `0+1x60`.
    pub values: String,
}

/// A test case: input series, evaluated at `eval_time`, expecting the alert to fire or not.
#[derive(Debug, Clone)]
pub struct AlertTest {
    /// What the case shows.
    pub name: String,
    /// Series.
    pub input: Vec<Input>,
    /// When to evaluate, e.g. `10m`.
    pub eval_time: String,
    /// Labels of the firing alert beyond the rule's own labels; `None` when it must not fire.
    pub fires_with: Option<Vec<(String, String)>>,
}

/// An alerting rule with its test cases.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Rule group.
    pub group: &'static str,
    /// Alert name.
    pub name: String,
    /// PromQL.
    pub expr: String,
    /// `for` duration, if any.
    pub for_: Option<&'static str>,
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Annotations (summary, description, runbook_url). Test values are chosen so templated
    /// values render exactly.
    pub annotations: Vec<(String, String)>,
    /// What to do first when it fires, in order (its runbook's steps).
    pub steps: Vec<String>,
    /// Queries to look at, each with what it shows: (title, PromQL).
    pub queries: Vec<(String, String)>,
    /// `promtool` cases.
    pub tests: Vec<AlertTest>,
}

impl Alert {
    /// The file name of its runbook page: the alert name in kebab case (`high-p99-latency.md`).
    pub fn runbook_file(&self) -> String {
        format!("{}.md", kebab(&self.name))
    }
}

/// `HighP99Latency` -> `high-p99-latency`, `SLOAvailabilityFastBurn` -> `slo-availability-fast-burn`.
pub fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next_lower)
            });
        if boundary {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `labels` of `f`, checked against its declaration, as a `by (..)` list.
fn by(f: &Family, labels: &[&str]) -> Result<String, GenerateError> {
    Ok(labels
        .iter()
        .map(|l| f.label(l))
        .collect::<Result<Vec<_>, _>>()?
        .join(", "))
}

/// `sum by (labels) (rate(f[5m]))`, for a counter `f`.
fn rate_by(f: &Family, labels: &[&str]) -> Result<String, GenerateError> {
    Ok(format!(
        "sum by ({}) (rate({}[5m]))",
        by(f, labels)?,
        f.series("")?
    ))
}

/// `histogram_quantile(0.99, ..)` of histogram `f`, per `labels`.
fn p99_by(f: &Family, labels: &[&str]) -> Result<String, GenerateError> {
    Ok(format!(
        "histogram_quantile(0.99, sum by (le, {}) (rate({}[5m])))",
        by(f, labels)?,
        f.series("_bucket")?
    ))
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn titled(items: Vec<(&str, String)>) -> Vec<(String, String)> {
    items.into_iter().map(|(t, q)| (t.to_owned(), q)).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn input(series: String, values: &str) -> Input {
    Input {
        series,
        values: values.to_owned(),
    }
}

/// Where the generated runbook pages are published: the repository's `docs/runbooks/`.
pub const RUNBOOK_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/runbooks/");

/// The runbook URL of the alert named `name`.
fn runbook(name: &str) -> String {
    format!("{RUNBOOK_BASE}{}.md", kebab(name))
}

/// Input series of a histogram whose every observation falls in the bucket ending at `bound`.
fn histogram_at(
    f: Family,
    labels: &str,
    bound: f64,
    per_minute: u32,
    minutes: u32,
) -> Result<Vec<Input>, GenerateError> {
    let bucket = f.series("_bucket")?;
    let mut inputs = Vec::new();
    for b in
        f.0.buckets
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
    {
        let values = if b >= bound {
            format!("0+{per_minute}x{minutes}")
        } else {
            format!("0x{minutes}")
        };
        inputs.push(input(
            format!("{bucket}{{{labels},le=\"{}\"}}", format_float(b)),
            &values,
        ));
    }
    inputs.push(input(
        format!("{}{{{labels}}}", f.series("_count")?),
        &format!("0+{per_minute}x{minutes}"),
    ));
    Ok(inputs)
}

/// The seed design's alerts.
pub fn seed_alerts() -> Result<Vec<Alert>, GenerateError> {
    Ok(vec![
        high_latency()?,
        high_errors()?,
        low_cache()?,
        high_cost()?,
        backend_down()?,
        high_memory()?,
    ])
}

/// The labels of an alert for the platform team at `severity`.
fn platform(severity: &str) -> Vec<(String, String)> {
    pairs(&[("severity", severity), ("team", "platform")])
}

/// `HighP99Latency`: the p99 of every request above the 100 ms SLA for 2 minutes.
fn high_latency() -> Result<Alert, GenerateError> {
    let requests = Family(MCP_REQUESTS_TOTAL.descriptor());
    let duration = Family(MCP_REQUEST_DURATION.descriptor());
    let p99 = format!(
        "histogram_quantile(0.99, sum by (le) (rate({}[5m])))",
        duration.series("_bucket")?
    );
    Ok(Alert {
        group: "only1mcp_sla",
        name: "HighP99Latency".into(),
        expr: format!("{p99} > 0.1"),
        for_: Some("2m"),
        labels: platform("warning"),
        annotations: pairs(&[
            (
                "summary",
                "P99 latency exceeds 100ms (current: {{ $value | humanizeDuration }})",
            ),
            (
                "description",
                "P99 latency has been above the 100ms SLA threshold for 2 minutes.\nThis may indicate backend performance issues or network problems.",
            ),
            ("runbook_url", &runbook("HighP99Latency")),
        ]),
        steps: lines(&[
            "Find the backend and method that are slow: the p99 by backend and method above.",
            "If one backend stands out, open its traces in the trace backend (the latency panel's exemplars link to them) and check the backend itself.",
            "If every backend is slow, look at the proxy: CPU and memory on the System dashboard, and the export queue (`only1mcp_obs_spans_dropped_total`).",
            "If the traffic grew, compare the request rate with the last day.",
        ]),
        queries: titled(vec![
            (
                "p99 by backend and method",
                p99_by(&duration, &["server_id", "method"])?,
            ),
            (
                "request rate by backend",
                rate_by(&requests, &["server_id"])?,
            ),
        ]),
        tests: high_latency_tests(duration)?,
    })
}

/// The `HighP99Latency` cases: requests answered in 0.25-0.5 s, and within 50 ms.
fn high_latency_tests(duration: Family) -> Result<Vec<AlertTest>, GenerateError> {
    let dur_labels = format!(
        "{}=\"github\",{}=\"tools/call\"",
        duration.label("server_id")?,
        duration.label("method")?
    );
    Ok(vec![
        AlertTest {
            name: "requests answered in 0.25-0.5 s".into(),
            input: histogram_at(duration, &dur_labels, 0.5, 10, 20)?,
            eval_time: "10m".into(),
            fires_with: Some(vec![]),
        },
        AlertTest {
            name: "requests answered within 50 ms".into(),
            input: histogram_at(duration, &dur_labels, 0.05, 10, 20)?,
            eval_time: "10m".into(),
            fires_with: None,
        },
    ])
}

/// `HighErrorRate`: more than 1% of the requests failing for 3 minutes.
fn high_errors() -> Result<Alert, GenerateError> {
    let requests = Family(MCP_REQUESTS_TOTAL.descriptor());
    let status = requests.label("status")?;
    let errors = requests.error_values(status)?;
    let total = requests.series("")?;
    let ratio = format!(
        "sum(rate({total}{{{}}}[5m])) / sum(rate({total}[5m]))",
        one_of(status, errors)
    );
    Ok(Alert {
        group: "only1mcp_sla",
        name: "HighErrorRate".into(),
        expr: format!("{ratio} > 0.01"),
        for_: Some("3m"),
        labels: pairs(&[
            ("severity", "critical"),
            ("team", "platform"),
            ("page", "true"),
        ]),
        annotations: pairs(&[
            (
                "summary",
                "Error rate exceeds 1% (current: {{ $value | humanizePercentage }})",
            ),
            (
                "description",
                "The error rate has exceeded the 1% SLA threshold.\nCheck backend health and recent deployments.",
            ),
            ("runbook_url", &runbook("HighErrorRate")),
        ]),
        steps: lines(&[
            "Find which backend and method fail: the error ratio by backend and method above.",
            "Check that backend's health (`BackendDown`, the Backends dashboard) and its logs; the aggregator logs each failed call with its trace id.",
            "If the errors started with a deployment or a configuration change, roll it back.",
            "If one tool fails for every client, the backend answers it with errors: open a failing call's trace.",
        ]),
        queries: titled(vec![
            (
                "error ratio by backend and method",
                format!(
                    "sum by ({sid}, {m}) (rate({total}{{{sel}}}[5m])) / sum by ({sid}, {m}) (rate({total}[5m]))",
                    sid = requests.label("server_id")?,
                    m = requests.label("method")?,
                    sel = one_of(status, errors)
                ),
            ),
            (
                "requests by status",
                format!("sum by ({status}) (rate({total}[5m]))"),
            ),
        ]),
        tests: high_errors_tests(requests)?,
    })
}

/// The `HighErrorRate` cases: half the requests failing, and none.
fn high_errors_tests(requests: Family) -> Result<Vec<AlertTest>, GenerateError> {
    let status = requests.label("status")?;
    let errors = requests.error_values(status)?;
    let ok = requests.ok_value(status)?;
    let req_labels = format!(
        "{}=\"github\",{}=\"tools/call\"",
        requests.label("server_id")?,
        requests.label("method")?
    );
    let total = requests.series("")?;
    let error_input = |error_per_min: u32| {
        vec![
            input(
                format!("{total}{{{req_labels},{status}=\"{}\"}}", errors[0]),
                &format!("0+{error_per_min}x20"),
            ),
            input(
                format!("{total}{{{req_labels},{status}=\"{ok}\"}}"),
                "0+1x20",
            ),
        ]
    };
    Ok(vec![
        AlertTest {
            name: "half the requests fail".into(),
            input: error_input(1),
            eval_time: "10m".into(),
            fires_with: Some(vec![]),
        },
        AlertTest {
            name: "no request fails".into(),
            input: error_input(0),
            eval_time: "10m".into(),
            fires_with: None,
        },
    ])
}

/// `LowCacheHitRate`: the average cache hit ratio below 50% for 10 minutes.
fn low_cache() -> Result<Alert, GenerateError> {
    let cache = Family(CONTEXT_CACHE_HIT_RATIO.descriptor());
    let cache_type = cache.label("cache_type")?;
    let tool_result = cache.value(cache_type, "tool_result")?;
    Ok(Alert {
        group: "only1mcp_sla",
        name: "LowCacheHitRate".into(),
        expr: format!("avg({}) < 0.5", cache.series("")?),
        for_: Some("10m"),
        labels: platform("warning"),
        annotations: pairs(&[
            (
                "summary",
                "Cache hit rate below 50% (current: {{ $value | humanizePercentage }})",
            ),
            (
                "description",
                "Low cache hit rate indicates inefficient context optimization.\nConsider reviewing cache configuration and TTL settings.",
            ),
            ("runbook_url", &runbook("LowCacheHitRate")),
        ]),
        steps: lines(&[
            "See which cache is missing: the hit ratio by cache type above.",
            "Check the `cache:` section of the configuration: a short `ttl_seconds` or a small `max_entries`/`max_bytes` evicts entries before they are reused.",
            "Check that the tools called are cacheable (read-only or idempotent annotations, or listed under `cache.tools`).",
            "A change in traffic (many distinct arguments) lowers the ratio without anything being wrong.",
        ]),
        queries: titled(vec![(
            "hit ratio by cache type",
            format!("avg by ({cache_type}) ({})", cache.series("")?),
        )]),
        tests: vec![
            AlertTest {
                name: "a quarter of lookups hit".into(),
                input: vec![input(
                    format!("{}{{{cache_type}=\"{tool_result}\"}}", cache.series("")?),
                    "0.25x30",
                )],
                eval_time: "20m".into(),
                fires_with: Some(vec![]),
            },
            AlertTest {
                name: "most lookups hit".into(),
                input: vec![input(
                    format!("{}{{{cache_type}=\"{tool_result}\"}}", cache.series("")?),
                    "0.9x30",
                )],
                eval_time: "20m".into(),
                fires_with: None,
            },
        ],
    })
}

/// `HighAPICosts`: more than $100 of API spending in the last hour.
fn high_cost() -> Result<Alert, GenerateError> {
    let requests = Family(MCP_REQUESTS_TOTAL.descriptor());
    let cost = Family(API_COST_DOLLARS.descriptor());
    Ok(Alert {
        group: "only1mcp_sla",
        name: "HighAPICosts".into(),
        expr: format!("sum(increase({}[1h])) > 100", cost.series("")?),
        for_: Some("1m"),
        labels: pairs(&[("severity", "warning"), ("team", "finance")]),
        annotations: pairs(&[
            (
                "summary",
                "API costs exceed $100/hour (current: ${{ $value | humanize }})",
            ),
            (
                "description",
                "Unusual API spending detected. Check for:\n- Runaway processes\n- Inefficient tool usage\n- Missing rate limits",
            ),
            ("runbook_url", &runbook("HighAPICosts")),
        ]),
        steps: lines(&[
            "Find the provider, model and operation that spend: the hourly cost by them above.",
            "Look for a client or tool calling in a loop: the request rate by backend and method.",
            "Apply a rate limit or a cheaper model for that operation; raise the threshold only if the spend is expected.",
        ]),
        queries: titled(vec![
            (
                "cost in the last hour by provider, model and operation",
                format!(
                    "sum by ({}) (increase({}[1h]))",
                    by(&cost, &["provider", "model", "operation"])?,
                    cost.series("")?
                ),
            ),
            (
                "request rate by backend and method",
                rate_by(&requests, &["server_id", "method"])?,
            ),
        ]),
        tests: high_cost_tests(cost)?,
    })
}

/// The `HighAPICosts` cases: $10 a minute, and $1 a minute.
fn high_cost_tests(cost: Family) -> Result<Vec<AlertTest>, GenerateError> {
    let cost_series = format!(
        "{}{{{}=\"anthropic\",{}=\"claude\",{}=\"{}\"}}",
        cost.series("")?,
        cost.label("provider")?,
        cost.label("model")?,
        cost.label("operation")?,
        cost.value("operation", "completion")?
    );
    Ok(vec![
        AlertTest {
            name: "$10 a minute".into(),
            input: vec![input(cost_series.clone(), "0+10x120")],
            eval_time: "90m".into(),
            fires_with: Some(vec![]),
        },
        AlertTest {
            name: "$1 a minute".into(),
            input: vec![input(cost_series, "0+1x120")],
            eval_time: "90m".into(),
            fires_with: None,
        },
    ])
}

/// `BackendDown`: a backend failing its health probes for 1 minute.
fn backend_down() -> Result<Alert, GenerateError> {
    let health = Family(BACKEND_HEALTH_STATUS.descriptor());
    let probe = Family(BACKEND_LATENCY.descriptor());
    Ok(Alert {
        group: "only1mcp_sla",
        name: "BackendDown".into(),
        expr: format!("{} == 0", health.series("")?),
        for_: Some("1m"),
        labels: platform("critical"),
        annotations: pairs(&[
            ("summary", "Backend server {{ $labels.server_id }} is down"),
            (
                "description",
                "The backend server has failed health checks for 1 minute.\nTraffic is being routed to other servers.",
            ),
            ("runbook_url", &runbook("BackendDown")),
        ]),
        steps: lines(&[
            "Confirm which backend: the alert's `server_id` label, and the readiness report at `/health/ready`.",
            "Check the backend's process (stdio: the aggregator logs its stderr and restarts) or its URL (HTTP) directly.",
            "Look at the probe latency above: probes that time out point at a hung backend rather than a dead one.",
            "Calls to other backends are unaffected; calls to this one fail until it is back.",
        ]),
        queries: titled(vec![
            ("backends down", format!("{} == 0", health.series("")?)),
            ("probe latency by backend", p99_by(&probe, &["server_id"])?),
        ]),
        tests: backend_down_tests(health)?,
    })
}

/// The `BackendDown` cases: a backend failing its probes, and one up.
fn backend_down_tests(health: Family) -> Result<Vec<AlertTest>, GenerateError> {
    let health_labels = format!(
        "{}=\"github\",{}=\"stdio\"",
        health.label("server_id")?,
        health.label("transport_type")?
    );
    Ok(vec![
        AlertTest {
            name: "a backend fails its probes".into(),
            input: vec![input(
                format!("{}{{{health_labels}}}", health.series("")?),
                "0x10",
            )],
            eval_time: "5m".into(),
            fires_with: Some(pairs(&[
                ("server_id", "github"),
                ("transport_type", "stdio"),
            ])),
        },
        AlertTest {
            name: "a backend is up".into(),
            input: vec![input(
                format!("{}{{{health_labels}}}", health.series("")?),
                "1x10",
            )],
            eval_time: "5m".into(),
            fires_with: None,
        },
    ])
}

/// `HighMemoryUsage`: resident memory above 2 GiB for 5 minutes.
fn high_memory() -> Result<Alert, GenerateError> {
    let memory = Family(MEMORY_USAGE_BYTES.descriptor());
    let memory_type = memory.label("type")?;
    let resident = memory.value(memory_type, "resident")?;
    let memory_series = format!("{}{{{memory_type}=\"{resident}\"}}", memory.series("")?);
    Ok(Alert {
        group: "only1mcp_sla",
        name: "HighMemoryUsage".into(),
        expr: format!(
            "sum({}{{{memory_type}=\"{resident}\"}}) / (1024 * 1024 * 1024) > 2",
            memory.series("")?
        ),
        for_: Some("5m"),
        labels: platform("warning"),
        annotations: pairs(&[
            (
                "summary",
                "Resident memory exceeds 2 GiB (current: {{ $value | humanize }} GiB)",
            ),
            (
                "description",
                "High memory usage detected. Consider:\n- Cache size limits\n- Connection pool size\n- Memory leaks",
            ),
            ("runbook_url", &runbook("HighMemoryUsage")),
        ]),
        steps: lines(&[
            "See whether memory grows steadily (a leak or an unbounded cache) or jumped with traffic: the resident memory over the last day above.",
            "Check the cache bounds (`cache.max_entries`, `cache.max_bytes`) and the span export queue (`tracing.batch.max_queue_size`, `max_queue_bytes`).",
            "Restart the aggregator if it keeps growing, and report the growth with the metrics above.",
        ]),
        queries: titled(vec![
            (
                "resident memory, GiB",
                format!("sum({memory_series}) / (1024 * 1024 * 1024)"),
            ),
            (
                "memory by type",
                format!("sum by ({memory_type}) ({})", memory.series("")?),
            ),
        ]),
        tests: vec![
            AlertTest {
                name: "3 GiB resident".into(),
                input: vec![input(memory_series.clone(), "3221225472x15")],
                eval_time: "10m".into(),
                fires_with: Some(vec![]),
            },
            AlertTest {
                name: "1 GiB resident".into(),
                input: vec![input(memory_series, "1073741824x15")],
                eval_time: "10m".into(),
                fires_with: None,
            },
        ],
    })
}

/// The multi-window multi-burn-rate pairs of the SRE workbook: (short, long, factor).
const PAGE: [(&str, &str, f64); 2] = [("5m", "1h", 14.4), ("30m", "6h", 6.0)];
const TICKET: [(&str, &str, f64); 2] = [("2h", "1d", 3.0), ("6h", "3d", 1.0)];

fn burn_expr(
    bad_ratio: &dyn Fn(&str) -> String,
    pairs: &[(&str, &str, f64)],
    budget: f64,
) -> String {
    pairs
        .iter()
        .map(|(short, long, factor)| {
            let threshold = crate::promql::number(factor * budget);
            format!(
                "(\n  ({}) > {threshold}\nand\n  ({}) > {threshold}\n)",
                bad_ratio(short),
                bad_ratio(long)
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

/// Burn-rate alerts for every declared objective, page and ticket.
pub fn slo_alerts() -> Result<Vec<Alert>, GenerateError> {
    let mut alerts = Vec::new();
    for desc in families() {
        for objective in desc.objectives {
            alerts.extend(objective_alerts(desc, *objective)?);
        }
    }
    Ok(alerts)
}

/// One declared objective, with what its burn-rate alerts are made of.
struct Slo {
    /// The family it is declared on.
    desc: &'static FamilyDesc,
    /// `Availability` or `Latency`.
    kind: &'static str,
    /// The bad-event ratio over a window.
    bad_ratio: BadRatio,
    /// The error budget, `1 - target`.
    budget: f64,
    /// The target as a percentage, e.g. `99.9%`.
    percent: String,
    /// Input series that meet the objective.
    healthy: Vec<Input>,
    /// Input series that break it.
    broken: Vec<Input>,
}

/// The page (fast burn) and ticket (slow burn) alerts of `objective`, declared on `desc`.
fn objective_alerts(
    desc: &'static FamilyDesc,
    objective: Objective,
) -> Result<Vec<Alert>, GenerateError> {
    let (kind, bad_ratio, target) = crate::promql::sli(desc, objective)?;
    let (healthy, broken) = objective_cases(desc, objective)?;
    let slo = Slo {
        desc,
        kind,
        bad_ratio,
        budget: 1.0 - target,
        percent: format!("{}%", format_float(target * 100.0).trim_end_matches(".0")),
        healthy,
        broken,
    };
    Ok(vec![
        burn_alert(&slo, "FastBurn", "critical", &PAGE[..], "page"),
        burn_alert(&slo, "SlowBurn", "warning", &TICKET[..], "ticket"),
    ])
}

/// Input series that meet `objective` and input series that break it: (healthy, broken).
fn objective_cases(
    desc: &'static FamilyDesc,
    objective: Objective,
) -> Result<(Vec<Input>, Vec<Input>), GenerateError> {
    let f = Family(desc);
    Ok(match objective {
        Objective::Availability { .. } => {
            let status = crate::promql::status_label(desc)?;
            let (errors, ok) = (f.error_values(status)?, f.ok_value(status)?);
            let series = |value: &str, per_minute: u32| {
                input(
                    format!("{}{{{status}=\"{value}\"}}", desc.name),
                    &format!("0+{per_minute}x300"),
                )
            };
            (
                vec![series(ok, 10), series(errors[0], 0)],
                vec![series(ok, 10), series(errors[0], 10)],
            )
        }
        Objective::Latency { threshold, .. } => {
            let fast = desc
                .buckets
                .iter()
                .copied()
                .find(|b| *b <= threshold)
                .unwrap_or(threshold);
            let slow = desc
                .buckets
                .iter()
                .copied()
                .find(|b| *b > threshold)
                .unwrap_or(f64::INFINITY);
            let first_label = desc
                .labels
                .first()
                .map(|l| format!("{}=\"x\"", l.name))
                .unwrap_or_default();
            (
                histogram_at(f, &first_label, fast, 10, 300)?,
                histogram_at(f, &first_label, slow, 10, 300)?,
            )
        }
    })
}

/// The burn-rate alert of `slo` named for `speed`, over the window pairs `windows`, notifying
/// by `label` (`page` or `ticket`).
fn burn_alert(
    slo: &Slo,
    speed: &str,
    severity: &str,
    windows: &[(&str, &str, f64)],
    label: &str,
) -> Alert {
    let (kind, desc, bad_ratio) = (slo.kind, slo.desc, &slo.bad_ratio);
    let name = format!("SLO{kind}{speed}");
    Alert {
        group: "only1mcp_slo",
        name: name.clone(),
        expr: burn_expr(&**bad_ratio, windows, slo.budget),
        for_: None,
        labels: vec![
            ("severity".into(), severity.into()),
            ("team".into(), "platform".into()),
            ("slo".into(), desc.name.into()),
            ("notify".into(), label.into()),
        ],
        annotations: burn_annotations(slo, &name, label),
        steps: lines(&[
            "Find where the budget goes: the bad-event ratio over the short window above, then the same split by backend on the SLO dashboard.",
            "Work the matching symptom alert's runbook (HighErrorRate for availability, HighP99Latency for latency).",
            "A page means the month's budget is gone within days at this rate: act now. A ticket means it runs out before the month ends: plan the fix.",
        ]),
        queries: titled(vec![
            ("bad-event ratio, 5 minutes", bad_ratio("5m")),
            ("bad-event ratio, 1 hour", bad_ratio("1h")),
            (
                "error budget left over 30 days",
                format!(
                    "1 - (({}) / {})",
                    bad_ratio("30d"),
                    crate::promql::number(slo.budget)
                ),
            ),
        ]),
        tests: burn_tests(slo),
    }
}

/// The annotations of the burn-rate alert `name` of `slo`, notifying by `label`.
fn burn_annotations(slo: &Slo, name: &str, label: &str) -> Vec<(String, String)> {
    let (kind, desc) = (slo.kind, slo.desc);
    let what = if label == "page" {
        "fast: the monthly error budget would be gone within days"
    } else {
        "slowly: at this rate the monthly error budget runs out"
    };
    vec![
        (
            "summary".into(),
            format!(
                "{kind} objective of {} ({}) burning its error budget {what}",
                desc.name, slo.percent
            ),
        ),
        (
            "description".into(),
            format!(
                "Multi-window burn rate of the {} objective of {} is above its {label} threshold in both a short and a long window.",
                kind.to_lowercase(),
                desc.name
            ),
        ),
        ("runbook_url".into(), runbook(name)),
    ]
}

/// The cases of a burn-rate alert of `slo`: the objective broken, and met.
fn burn_tests(slo: &Slo) -> Vec<AlertTest> {
    let kind = slo.kind;
    vec![
        AlertTest {
            name: format!("{kind} objective broken"),
            input: slo.broken.clone(),
            eval_time: "4h".into(),
            fires_with: Some(vec![]),
        },
        AlertTest {
            name: format!("{kind} objective met"),
            input: slo.healthy.clone(),
            eval_time: "4h".into(),
            fires_with: None,
        },
    ]
}

/// Every generated alert.
pub fn all_alerts() -> Result<Vec<Alert>, GenerateError> {
    let mut alerts = seed_alerts()?;
    alerts.extend(slo_alerts()?);
    Ok(alerts)
}

fn map(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// The rule file.
pub fn rule_file(alerts: &[Alert]) -> Value {
    let mut groups: Vec<(&str, Vec<Value>)> = Vec::new();
    for alert in alerts {
        let mut rule = Map::new();
        rule.insert("alert".into(), json!(alert.name));
        rule.insert("expr".into(), json!(alert.expr));
        if let Some(for_) = alert.for_ {
            rule.insert("for".into(), json!(for_));
        }
        rule.insert("labels".into(), map(&alert.labels));
        rule.insert("annotations".into(), map(&alert.annotations));
        match groups.iter_mut().find(|(g, _)| *g == alert.group) {
            Some((_, rules)) => rules.push(Value::Object(rule)),
            None => groups.push((alert.group, vec![Value::Object(rule)])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, rules)| json!({ "name": name, "interval": "30s", "rules": rules }))
        .collect();
    json!({ "groups": groups })
}

/// The `promtool test rules` file for `rule_file_name`.
pub fn test_file(alerts: &[Alert], rule_file_name: &str) -> Value {
    let mut tests = Vec::new();
    for alert in alerts {
        for case in &alert.tests {
            let exp_alerts: Vec<Value> = match &case.fires_with {
                Some(extra) => {
                    let mut labels = alert.labels.clone();
                    labels.extend(extra.iter().cloned());
                    let annotations: Vec<(String, String)> = alert
                        .annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), expected_annotation(&alert.name, v, extra)))
                        .collect();
                    vec![
                        json!({ "exp_labels": map(&labels), "exp_annotations": map(&annotations) }),
                    ]
                }
                None => Vec::new(),
            };
            tests.push(json!({
                "name": format!("{}: {}", alert.name, case.name),
                "interval": "1m",
                "input_series": case.input.iter().map(|i| json!({ "series": i.series, "values": i.values })).collect::<Vec<_>>(),
                "alert_rule_test": [{ "eval_time": case.eval_time, "alertname": alert.name, "exp_alerts": exp_alerts }],
            }));
        }
    }
    json!({ "rule_files": [rule_file_name], "evaluation_interval": "1m", "tests": tests })
}

/// An annotation as Prometheus renders it for the firing test case: the templated values of
/// the cases above are chosen so that they render exactly.
fn expected_annotation(alert: &str, template: &str, labels: &[(String, String)]) -> String {
    let rendered_value = match alert {
        "HighP99Latency" => "497.5ms",
        "HighErrorRate" => "50%",
        "LowCacheHitRate" => "25%",
        "HighAPICosts" => "600",
        "HighMemoryUsage" => "3",
        _ => "",
    };
    let mut out = template
        .replace("{{ $value | humanizeDuration }}", rendered_value)
        .replace("{{ $value | humanizePercentage }}", rendered_value)
        .replace("{{ $value | humanize }}", rendered_value);
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}
