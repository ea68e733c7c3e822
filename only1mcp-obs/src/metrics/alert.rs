//! Alert policies as data, declared next to the families they watch: the condition in PromQL
//! written with typed label references ([`LabelRef`](super::promql::LabelRef)), the `for`
//! duration, routing labels, the texts, what to do first, what to look at, and the cases that
//! show when it fires. The generator renders each policy into a Prometheus rule, `promtool`
//! rule tests and a runbook page; nothing about an alert is written anywhere else.
//!
//! ```
//! use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, RequestStatus};
//! use only1mcp_obs::metrics::alert::{AlertCase, AlertPolicy, Firing, Input};
//!
//! let requests = MCP_REQUESTS_TOTAL.promql();
//! let status = MCP_REQUESTS_TOTAL.label_refs().status;
//! let failing = format!("{}{{{}}}", requests.name(), status.failed());
//! let policy = AlertPolicy {
//!     group: "my_service",
//!     name: "AnyRequestFailing",
//!     expr: format!("sum(rate({failing}[5m])) > 0"),
//!     for_: "5m",
//!     labels: &[("severity", "warning")],
//!     summary: "Requests are failing",
//!     description: "At least one request failed in the last 5 minutes.",
//!     steps: &["Open a failing call's trace."],
//!     queries: vec![],
//!     cases: vec![AlertCase {
//!         name: "one failure a minute",
//!         input: vec![Input::new(
//!             format!("{}{{{}}}", requests.name(), status.is(RequestStatus::Error)),
//!             "0+1x20",
//!         )],
//!         eval_time: "10m",
//!         fires: Some(Firing::default()),
//!     }],
//! };
//! assert!(policy.expr.contains(r#"status=~"error|timeout""#));
//! ```

use super::promql::Metric;
use super::text::format_float;
use super::{Counter, Histogram};

/// One alerting rule and everything that goes with it.
#[derive(Debug, Clone)]
pub struct AlertPolicy {
    /// The rule group.
    pub group: &'static str,
    /// The alert name, in CamelCase; its runbook page is named after it.
    pub name: &'static str,
    /// The condition, in PromQL.
    pub expr: String,
    /// How long the condition holds before the alert fires.
    pub for_: &'static str,
    /// Routing labels (`severity`, `team`, ...).
    pub labels: &'static [(&'static str, &'static str)],
    /// The `summary` annotation (it may use `{{ $value }}` and `{{ $labels.x }}`).
    pub summary: &'static str,
    /// The `description` annotation.
    pub description: &'static str,
    /// What to do first when it fires, in order.
    pub steps: &'static [&'static str],
    /// Queries to look at, each with what it shows: (title, PromQL).
    pub queries: Vec<(&'static str, String)>,
    /// `promtool` cases: when it fires and when it does not.
    pub cases: Vec<AlertCase>,
}

/// A `promtool test rules` case of a policy.
#[derive(Debug, Clone)]
pub struct AlertCase {
    /// What the case shows.
    pub name: &'static str,
    /// The input series.
    pub input: Vec<Input>,
    /// When to evaluate, such as `10m`.
    pub eval_time: &'static str,
    /// The alert as it fires in this case; `None` when it must not fire.
    pub fires: Option<Firing>,
}

impl AlertCase {
    /// A case in which the alert fires as `firing`.
    pub fn fires(
        name: &'static str,
        input: Vec<Input>,
        eval_time: &'static str,
        firing: Firing,
    ) -> Self {
        Self {
            name,
            input,
            eval_time,
            fires: Some(firing),
        }
    }

    /// The usual pair of cases on one series, evaluated at `eval_time`: named `fires.0`, the
    /// series takes the values `fires.1` and the alert fires as `fires.2`; named `silent.0`, it
    /// takes the values `silent.1` and the alert stays silent.
    pub fn pair(
        series: &str,
        eval_time: &'static str,
        fires: (&'static str, &str, Firing),
        silent: (&'static str, &str),
    ) -> Vec<Self> {
        vec![
            Self::fires(
                fires.0,
                vec![Input::new(series, fires.1)],
                eval_time,
                fires.2,
            ),
            Self::silent(silent.0, vec![Input::new(series, silent.1)], eval_time),
        ]
    }

    /// A case in which the alert stays silent.
    pub fn silent(name: &'static str, input: Vec<Input>, eval_time: &'static str) -> Self {
        Self {
            name,
            input,
            eval_time,
            fires: None,
        }
    }
}

/// The alert of a case that fires.
#[derive(Debug, Clone, Default)]
pub struct Firing {
    /// Its labels beyond the rule's own (those of the series that fires).
    pub labels: Vec<(&'static str, String)>,
    /// `{{ $value }}` in the annotations as Prometheus renders it with the annotation's filter
    /// (`humanizePercentage` of 0.5 is `50%`); empty when the annotations do not show it.
    pub value: &'static str,
}

impl Firing {
    /// Fires with no labels beyond the rule's own, showing `value`.
    pub fn showing(value: &'static str) -> Self {
        Self {
            labels: Vec::new(),
            value,
        }
    }
}

/// One input series of a rule test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The series, such as `up{job="x"}`.
    pub series: String,
    /// The values in `promtool`'s notation, such as `0+1x60`.
    pub values: String,
}

impl Input {
    /// An input series.
    pub fn new(series: impl Into<String>, values: impl Into<String>) -> Self {
        Self {
            series: series.into(),
            values: values.into(),
        }
    }
}

/// The input series of a histogram every observation of which falls in the bucket ending at
/// `bound`: `per_minute` observations a minute for `minutes` minutes, on the series `labels`
/// (`a="x",b="y"`).
pub fn histogram_at(
    histogram: Metric<Histogram>,
    labels: &str,
    bound: f64,
    per_minute: u32,
    minutes: u32,
) -> Vec<Input> {
    let bucket = histogram.bucket();
    let rising = format!("0+{per_minute}x{minutes}");
    let mut inputs: Vec<Input> = histogram
        .buckets()
        .iter()
        .copied()
        .chain(std::iter::once(f64::INFINITY))
        .map(|b| {
            let values = if b >= bound {
                rising.clone()
            } else {
                format!("0x{minutes}")
            };
            Input::new(
                format!("{bucket}{{{labels},le=\"{}\"}}", format_float(b)),
                values,
            )
        })
        .collect();
    inputs.push(Input::new(
        format!("{}{{{labels}}}", histogram.count()),
        rising,
    ));
    inputs
}

/// `sum by (labels) (rate(counter[5m]))`.
pub fn rate_by(counter: Metric<Counter>, labels: &[&str]) -> String {
    format!(
        "sum by ({}) (rate({}[5m]))",
        labels.join(", "),
        counter.name()
    )
}

/// The p99 of a histogram over 5 minutes, per `labels`.
pub fn p99_by(histogram: Metric<Histogram>, labels: &[&str]) -> String {
    format!(
        "histogram_quantile(0.99, sum by (le, {}) (rate({}[5m])))",
        labels.join(", "),
        histogram.bucket()
    )
}
