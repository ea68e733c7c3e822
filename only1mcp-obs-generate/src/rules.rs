//! Prometheus alert rules, and `promtool test rules` cases for every alert: the alert policies
//! declared next to the families (the catalogue's six, [`only1mcp_obs::catalogue::alerts`], and
//! the application's own, [`Generator::alert`](crate::Generator::alert)), and multi-window
//! multi-burn-rate alerts for every objective declared in `metrics!`.

use crate::GenerateError;
use crate::promql::{BadRatio, Family};
use only1mcp_obs::metrics::alert::{AlertPolicy, Firing, Input, histogram_at};
use only1mcp_obs::metrics::promql::{Metric, PromqlError};
use only1mcp_obs::metrics::text::format_float;
use only1mcp_obs::metrics::{FamilyDesc, Objective, families};
use serde_json::{Map, Value, json};

/// A test case: input series, evaluated at `eval_time`, expecting the alert to fire or not.
#[derive(Debug, Clone)]
pub struct AlertTest {
    /// What the case shows.
    pub name: String,
    /// Series.
    pub input: Vec<Input>,
    /// When to evaluate, e.g. `10m`.
    pub eval_time: String,
    /// The alert as it fires; `None` when it must not fire.
    pub fires: Option<Firing>,
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
    /// The rule, runbook and cases of a declared policy.
    pub fn from_policy(policy: AlertPolicy) -> Self {
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        Alert {
            group: policy.group,
            name: policy.name.to_owned(),
            expr: policy.expr,
            for_: Some(policy.for_),
            labels: pairs(policy.labels),
            annotations: pairs(&[
                ("summary", policy.summary),
                ("description", policy.description),
                ("runbook_url", &runbook(policy.name)),
            ]),
            steps: policy.steps.iter().map(|s| (*s).to_owned()).collect(),
            queries: policy
                .queries
                .into_iter()
                .map(|(title, query)| (title.to_owned(), query))
                .collect(),
            tests: policy
                .cases
                .into_iter()
                .map(|case| AlertTest {
                    name: case.name.to_owned(),
                    input: case.input,
                    eval_time: case.eval_time.to_owned(),
                    fires: case.fires,
                })
                .collect(),
        }
    }

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

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn titled(items: Vec<(&str, String)>) -> Vec<(String, String)> {
    items.into_iter().map(|(t, q)| (t.to_owned(), q)).collect()
}

/// Where the generated runbook pages are published: the repository's `docs/runbooks/`.
pub const RUNBOOK_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/runbooks/");

/// The runbook URL of the alert named `name`.
fn runbook(name: &str) -> String {
    format!("{RUNBOOK_BASE}{}.md", kebab(name))
}

/// The seed design's alerts, as the catalogue declares them.
pub fn seed_alerts() -> Result<Vec<Alert>, GenerateError> {
    Ok(only1mcp_obs::catalogue::alerts()
        .into_iter()
        .map(Alert::from_policy)
        .collect())
}

/// The alerts of `policies`, then the burn-rate alerts of every declared objective.
pub fn alerts(policies: &[AlertPolicy]) -> Result<Vec<Alert>, GenerateError> {
    let mut alerts: Vec<Alert> = policies.iter().cloned().map(Alert::from_policy).collect();
    alerts.extend(slo_alerts()?);
    Ok(alerts)
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
                Input::new(
                    format!("{}{{{status}=\"{value}\"}}", desc.name),
                    format!("0+{per_minute}x300"),
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
            let histogram = Metric::histogram(desc).ok_or(PromqlError::NoSeries {
                family: desc.name,
                kind: desc.kind.as_str(),
                suffix: "_bucket".to_owned(),
            })?;
            (
                histogram_at(histogram, &first_label, fast, 10, 300),
                histogram_at(histogram, &first_label, slow, 10, 300),
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
            fires: Some(Firing::default()),
        },
        AlertTest {
            name: format!("{kind} objective met"),
            input: slo.healthy.clone(),
            eval_time: "4h".into(),
            fires: None,
        },
    ]
}

/// Every generated alert of the catalogue: its policies and the burn-rate alerts.
pub fn all_alerts() -> Result<Vec<Alert>, GenerateError> {
    alerts(&only1mcp_obs::catalogue::alerts())
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
            let exp_alerts: Vec<Value> = match &case.fires {
                Some(firing) => {
                    let mut labels = alert.labels.clone();
                    labels.extend(
                        firing
                            .labels
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), v.clone())),
                    );
                    let annotations: Vec<(String, String)> = alert
                        .annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), expected_annotation(v, firing)))
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

/// An annotation as Prometheus renders it when `firing` fires: its case says how its value
/// renders, and its labels fill `{{ $labels.x }}`.
fn expected_annotation(template: &str, firing: &Firing) -> String {
    let mut out = template
        .replace("{{ $value | humanizeDuration }}", firing.value)
        .replace("{{ $value | humanizePercentage }}", firing.value)
        .replace("{{ $value | humanize }}", firing.value);
    for (k, v) in &firing.labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}
