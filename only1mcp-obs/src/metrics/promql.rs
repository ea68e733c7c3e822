//! PromQL built from family descriptors: a metric or label name that the code does not declare
//! cannot be written here, because every name comes from a descriptor. The dashboards and alert
//! rules generated from the descriptors, and the SLA figures read back from Prometheus
//! (`business::sla_summary`), are written with it.
//!
//! ```
//! use only1mcp_obs::catalogue::MCP_REQUEST_DURATION;
//! use only1mcp_obs::metrics::promql::{Family, PromqlError};
//!
//! let duration = Family(MCP_REQUEST_DURATION.descriptor());
//! assert_eq!(duration.series("_bucket").unwrap(), "only1mcp_mcp_request_duration_seconds_bucket");
//! assert!(matches!(duration.label("tenant"), Err(PromqlError::NoLabel { .. })));
//! ```

use crate::metrics::text::format_float;
use crate::metrics::{
    DomainKind, FamilyDesc, Histogram, LabelValue, MarksFailure, MetricKind, Objective,
};
use std::fmt;
use std::marker::PhantomData;

/// A family's descriptor does not have what a query asked of it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PromqlError {
    /// The family has no such series (a counter has no `_bucket`).
    NoSeries {
        /// The family.
        family: &'static str,
        /// Its kind.
        kind: &'static str,
        /// The series suffix asked for.
        suffix: String,
    },
    /// The family declares no such label.
    NoLabel {
        /// The family.
        family: &'static str,
        /// The label asked for.
        label: String,
    },
    /// The label is not a closed domain with the values asked for (error values, an ok value,
    /// or a given value).
    NotInDomain {
        /// The family.
        family: &'static str,
        /// The label.
        label: String,
        /// What was asked of its domain.
        wanted: String,
    },
    /// The bound is not one of the histogram's bucket bounds.
    NotABucket {
        /// The family.
        family: &'static str,
        /// The bound.
        bound: f64,
    },
}

impl fmt::Display for PromqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromqlError::NoSeries {
                family,
                kind,
                suffix,
            } => write!(f, "{family} is a {kind}, it has no {suffix} series"),
            PromqlError::NoLabel { family, label } => write!(f, "{family} has no label `{label}`"),
            PromqlError::NotInDomain {
                family,
                label,
                wanted,
            } => write!(f, "{family}'s `{label}` has no {wanted}"),
            PromqlError::NotABucket { family, bound } => {
                write!(f, "{bound} is not a bucket bound of {family}")
            }
        }
    }
}

impl std::error::Error for PromqlError {}

/// A family, for writing PromQL about it.
#[derive(Debug, Clone, Copy)]
pub struct Family(pub &'static FamilyDesc);

impl Family {
    /// The sample name: the family name, or `name_bucket` / `_count` / `_sum` of a histogram.
    pub fn series(&self, suffix: &str) -> Result<String, PromqlError> {
        match (self.0.kind, suffix) {
            (_, "") => Ok(self.0.name.to_owned()),
            (MetricKind::Histogram, "_bucket" | "_count" | "_sum") => {
                Ok(format!("{}{suffix}", self.0.name))
            }
            _ => Err(PromqlError::NoSeries {
                family: self.0.name,
                kind: self.0.kind.as_str(),
                suffix: suffix.to_owned(),
            }),
        }
    }

    fn not_in_domain(&self, label: &str, wanted: String) -> PromqlError {
        PromqlError::NotInDomain {
            family: self.0.name,
            label: label.to_owned(),
            wanted,
        }
    }

    /// A declared label's name.
    pub fn label(&self, name: &str) -> Result<&'static str, PromqlError> {
        self.0
            .labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.name)
            .ok_or_else(|| PromqlError::NoLabel {
                family: self.0.name,
                label: name.to_owned(),
            })
    }

    /// The values of a closed-domain label marked `#[label(error)]`.
    pub fn error_values(&self, label: &str) -> Result<&'static [&'static str], PromqlError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed { error_values, .. }) if !error_values.is_empty() => {
                Ok(error_values)
            }
            _ => Err(self.not_in_domain(label, "closed domain with error values".to_owned())),
        }
    }

    /// The first value of a closed-domain label that is not an error value.
    pub fn ok_value(&self, label: &str) -> Result<&'static str, PromqlError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed {
                values,
                error_values,
            }) => values
                .iter()
                .copied()
                .find(|v| !error_values.contains(v))
                .ok_or_else(|| self.not_in_domain(label, "value that is not an error".to_owned())),
            _ => Err(self.not_in_domain(label, "closed domain".to_owned())),
        }
    }

    /// A value of a closed-domain label, checked to be in the domain.
    pub fn value(&self, label: &str, value: &'static str) -> Result<&'static str, PromqlError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed { values, .. }) if values.contains(&value) => Ok(value),
            _ => Err(self.not_in_domain(label, format!("value `{value}`"))),
        }
    }

    /// The `le` value of a declared bucket bound, as the exposition writes it (and Prometheus 3
    /// normalises it): `0.1`, `1.0`.
    pub fn le(&self, bound: f64) -> Result<String, PromqlError> {
        if self.0.buckets.contains(&bound) {
            Ok(format_float(bound))
        } else {
            Err(PromqlError::NotABucket {
                family: self.0.name,
                bound,
            })
        }
    }
}

/// `label=~"a|b"` with regex metacharacters escaped.
pub fn one_of(label: &str, values: &[&str]) -> String {
    let escaped: Vec<String> = values.iter().map(|v| regex_escape(v)).collect();
    format!("{label}=~\"{}\"", escaped.join("|"))
}

fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// A number as PromQL and humans like it: no float noise, no trailing zeros.
pub fn number(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// The label whose closed domain marks error values (the `status` of a request counter).
pub fn status_label(desc: &'static FamilyDesc) -> Result<&'static str, PromqlError> {
    let f = Family(desc);
    desc.labels
        .iter()
        .find(|l| f.error_values(l.name).is_ok())
        .map(|l| l.name)
        .ok_or_else(|| f.not_in_domain("status", "label marking error values".to_owned()))
}

/// The ratio of bad events of an objective over a window, as PromQL.
pub type BadRatio = Box<dyn Fn(&str) -> String>;

/// The service level indicator of an objective: its name, the bad-event ratio over a window,
/// and the target.
pub fn sli(
    desc: &'static FamilyDesc,
    objective: Objective,
) -> Result<(&'static str, BadRatio, f64), PromqlError> {
    let f = Family(desc);
    match objective {
        Objective::Availability { target } => {
            let status = status_label(desc)?;
            let selector = one_of(status, f.error_values(status)?);
            let total = f.series("")?;
            Ok((
                "Availability",
                Box::new(move |w| {
                    format!("sum(rate({total}{{{selector}}}[{w}])) / sum(rate({total}[{w}]))")
                }),
                target,
            ))
        }
        Objective::Latency { threshold, target } => {
            let le = f.le(threshold)?;
            let (bucket, count) = (f.series("_bucket")?, f.series("_count")?);
            Ok((
                "Latency",
                Box::new(move |w| {
                    format!(
                        "1 - (sum(rate({bucket}{{le=\"{le}\"}}[{w}])) / sum(rate({count}[{w}])))"
                    )
                }),
                target,
            ))
        }
    }
}

/// A label of a family, typed by its domain: `FAMILY.label_refs().status` for a family that
/// [`metrics!`](macro@crate::metrics) declares. A query that names a label the family does not
/// have, or a closed-domain value the label cannot take, does not compile.
///
/// ```
/// use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, RequestStatus};
///
/// let labels = MCP_REQUESTS_TOTAL.label_refs();
/// assert_eq!(labels.status.is(RequestStatus::Success), r#"status="success""#);
/// assert_eq!(labels.status.failed(), r#"status=~"error|timeout""#);
/// assert_eq!(labels.server_id.name(), "server_id");
/// ```
#[derive(Clone, Copy)]
pub struct LabelRef<T> {
    name: &'static str,
    domain: PhantomData<fn() -> T>,
}

// By hand: a label's domain need not be `Debug`.
impl<T> fmt::Debug for LabelRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LabelRef").field(&self.name).finish()
    }
}

impl<T: LabelValue> LabelRef<T> {
    #[doc(hidden)]
    pub const fn __new(name: &'static str) -> Self {
        Self {
            name,
            domain: PhantomData,
        }
    }

    /// The label's name as exposed.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// `name="value"`.
    pub fn is(self, value: T) -> String {
        self.is_named(value.as_str())
    }

    /// `name="value"` for a value known only at run time, such as a backend's id in a dynamic
    /// domain: the value is escaped, not checked.
    pub fn is_named(self, value: &str) -> String {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{}=\"{escaped}\"", self.name)
    }
}

impl<T: MarksFailure> LabelRef<T> {
    /// `name=~"a|b"`: the values of the domain marked `#[label(error)]`.
    pub fn failed(self) -> String {
        let values: Vec<&str> = T::FAILURES.iter().map(|v| v.as_str()).collect();
        one_of(self.name, &values)
    }
}

/// The samples of a family of kind `K` (a [`Counter`](crate::Counter), [`Gauge`](crate::Gauge)
/// or [`Histogram`]), as PromQL names them: `FAMILY.promql()`. Only a histogram has buckets.
///
/// ```
/// use only1mcp_obs::catalogue::MCP_REQUEST_DURATION;
///
/// let duration = MCP_REQUEST_DURATION.promql();
/// assert_eq!(duration.bucket(), "only1mcp_mcp_request_duration_seconds_bucket");
/// assert_eq!(duration.le(0.1).as_deref(), Some("0.1"));
/// ```
pub struct Metric<K> {
    desc: &'static FamilyDesc,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Metric<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Metric<K> {}

impl<K> fmt::Debug for Metric<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Metric({})", self.desc.name)
    }
}

impl<K> Metric<K> {
    #[doc(hidden)]
    pub const fn __new(desc: &'static FamilyDesc) -> Self {
        Self {
            desc,
            kind: PhantomData,
        }
    }

    /// The family name: the sample name of a counter or a gauge.
    pub const fn name(self) -> &'static str {
        self.desc.name
    }

    /// The family's descriptor.
    pub const fn descriptor(self) -> &'static FamilyDesc {
        self.desc
    }
}

impl Metric<Histogram> {
    /// The histogram a descriptor describes; `None` for a counter or a gauge.
    pub fn histogram(desc: &'static FamilyDesc) -> Option<Self> {
        (desc.kind == MetricKind::Histogram).then_some(Self::__new(desc))
    }

    /// `name_bucket`.
    pub fn bucket(self) -> String {
        format!("{}_bucket", self.desc.name)
    }

    /// `name_count`.
    pub fn count(self) -> String {
        format!("{}_count", self.desc.name)
    }

    /// `name_sum`.
    pub fn sum(self) -> String {
        format!("{}_sum", self.desc.name)
    }

    /// The declared bucket bounds (without `+Inf`).
    pub const fn buckets(self) -> &'static [f64] {
        self.desc.buckets
    }

    /// The `le` value of a declared bound, as the exposition writes it; `None` for a bound the
    /// histogram does not declare.
    pub fn le(self, bound: f64) -> Option<String> {
        self.desc
            .buckets
            .contains(&bound)
            .then(|| format_float(bound))
    }
}
