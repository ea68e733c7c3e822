//! What is declared about a metric family: its kind, labels, buckets, unit and objectives.
//! Dashboards and alert rules are generated from these descriptors.

use super::label::DomainDesc;

/// The kind of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted in buckets.
    Histogram,
}

impl MetricKind {
    /// The Prometheus `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// Everything declared about a family. Dashboards and alert rules are generated from these.
#[derive(Debug)]
pub struct FamilyDesc {
    /// The Prometheus name, e.g. `only1mcp_mcp_requests_total`.
    pub name: &'static str,
    /// HELP text, from the doc comment.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The declared unit (`seconds`, `bytes`, `ratio`, ...), if any.
    pub unit: Option<&'static str>,
    /// The labels, in declaration order.
    pub labels: &'static [LabelDesc],
    /// Histogram bucket upper bounds (without `+Inf`); empty for other kinds.
    pub buckets: &'static [f64],
    /// The most series (lines on the page) this family may have: label sets times the lines
    /// each set writes (`bounds + 3` for a histogram). Checked at compile time.
    pub budget: usize,
    /// Service level objectives declared on the family; alert rules are generated from them.
    pub objectives: &'static [Objective],
    /// Where it was declared.
    pub module_path: &'static str,
    /// Source file of the declaration.
    pub file: &'static str,
    /// Source line of the declaration.
    pub line: u32,
}

/// A service level objective declared with `objectives: [..]` in `metrics!`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// On a counter with a status label: this fraction of events is not an error (by the status
    /// domain's `#[label(error)]` values).
    Availability {
        /// Fraction, e.g. 0.999.
        target: f64,
    },
    /// On a histogram: this fraction of observations is at most `threshold` (a bucket bound).
    Latency {
        /// The bucket bound, in the family's unit.
        threshold: f64,
        /// Fraction, e.g. 0.99.
        target: f64,
    },
}

/// A label of a family.
#[derive(Debug)]
pub struct LabelDesc {
    /// The label name.
    pub name: &'static str,
    /// Where its values come from.
    pub domain: &'static DomainDesc,
    /// Set when a usually high-cardinality name was explicitly allowed, with the reason.
    pub high_cardinality_reason: Option<&'static str>,
}

impl FamilyDesc {
    /// The most label sets this family can have: the product of its label domains' sizes.
    pub fn max_label_sets(&self) -> usize {
        self.labels
            .iter()
            .fold(1usize, |n, l| n.saturating_mul(l.domain.cardinality()))
    }

    /// The series each label set writes: one for a counter or gauge; for a histogram one per
    /// bucket bound, plus `le="+Inf"`, `_sum` and `_count`.
    pub fn series_per_label_set(&self) -> usize {
        series_per_label_set(self.kind == MetricKind::Histogram, self.buckets.len())
    }

    /// The most series this family can put on the page: label sets x series per label set.
    /// [`budget`](Self::budget) bounds it.
    pub fn max_series(&self) -> usize {
        self.max_label_sets()
            .saturating_mul(self.series_per_label_set())
    }
}

/// Series written per label set: `bounds + 3` for a histogram (`+Inf`, `_sum`, `_count`), else 1.
pub(crate) const fn series_per_label_set(histogram: bool, bounds: usize) -> usize {
    if histogram {
        bounds.saturating_add(3)
    } else {
        1
    }
}
