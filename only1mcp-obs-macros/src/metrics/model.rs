//! The checked model of a `metrics!` invocation: every value typed and settled, with the spans
//! its generated tokens need. Code generation reads only this.

use crate::label::ClosedValue;
use proc_macro2::Span;

/// Every item of an invocation that passed every rule, in declaration order.
pub(crate) struct Model {
    pub(crate) items: Vec<Item>,
}

pub(crate) enum Item {
    Family(Family),
    Dynamic(Dynamic),
}

/// The kind of a metric family.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    /// The name of the runtime's series type and of its `MetricKind` variant.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Counter => "Counter",
            Kind::Gauge => "Gauge",
            Kind::Histogram => "Histogram",
        }
    }
}

/// The base unit a family measures in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Bytes,
    Ratio,
    Percent,
    Dollars,
    Meters,
    Grams,
    Joules,
    Celsius,
    Volts,
    Amperes,
}

impl Unit {
    pub(crate) const ALL: [Unit; 11] = [
        Unit::Seconds,
        Unit::Bytes,
        Unit::Ratio,
        Unit::Percent,
        Unit::Dollars,
        Unit::Meters,
        Unit::Grams,
        Unit::Joules,
        Unit::Celsius,
        Unit::Volts,
        Unit::Amperes,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
            Unit::Ratio => "ratio",
            Unit::Percent => "percent",
            Unit::Dollars => "dollars",
            Unit::Meters => "meters",
            Unit::Grams => "grams",
            Unit::Joules => "joules",
            Unit::Celsius => "celsius",
            Unit::Volts => "volts",
            Unit::Amperes => "amperes",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == name)
    }

    /// Whether a quantity in this unit can be negative (and so can a bucket bound).
    pub(crate) fn can_be_negative(self) -> bool {
        matches!(self, Unit::Celsius | Unit::Volts | Unit::Amperes)
    }
}

/// The names a family's declaration gives to generated items.
pub(crate) struct Shape {
    /// The doc comments, re-emitted on the static.
    pub(crate) docs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    /// The static, such as `REQUESTS`.
    pub(crate) ident: syn::Ident,
    /// The handle type, such as `Requests`.
    pub(crate) ty: syn::Ident,
    pub(crate) kind: Kind,
    /// The kind keyword: the static is declared on it.
    pub(crate) kind_span: Span,
}

/// A family that passed every rule.
pub(crate) struct Family {
    pub(crate) shape: Shape,
    pub(crate) name: Name,
    /// The HELP line, from the doc comments.
    pub(crate) help: String,
    pub(crate) unit: Option<Unit>,
    /// Bucket upper bounds, strictly increasing; empty unless the family is a histogram.
    pub(crate) bounds: Vec<Bound>,
    pub(crate) budget: Budget,
    pub(crate) labels: Vec<Label>,
    pub(crate) objectives: Vec<Objective>,
}

/// A metric name, such as `only1mcp_mcp_requests_total`.
pub(crate) struct Name {
    pub(crate) value: String,
    /// The name's literal: the duplicate-name check sits on it.
    pub(crate) span: Span,
}

/// A bucket upper bound.
#[derive(Clone, Copy)]
pub(crate) struct Bound {
    pub(crate) value: f64,
    /// The bound as written: the descriptor's literal is given its span.
    pub(crate) span: Span,
}

/// The most series a family may have.
pub(crate) struct Budget {
    pub(crate) value: usize,
    /// The `budget` literal, or the name when no budget is given: the compile-time budget check
    /// reports there.
    pub(crate) span: Span,
}

/// A label of a family.
pub(crate) struct Label {
    /// The label name as exposed.
    pub(crate) name: String,
    /// The parameter of `labels(..)` (a raw identifier for keywords such as `type`).
    pub(crate) param: syn::Ident,
    pub(crate) domain: Domain,
    /// The reason given by `#[allow_high_cardinality(reason = "..")]`.
    pub(crate) high_cardinality_reason: Option<syn::LitStr>,
}

/// Where a label's values come from.
pub(crate) enum Domain {
    /// A type implementing `LabelValue`.
    Type(Box<syn::Type>),
    /// An inline list, which becomes an enum of its own.
    Inline(InlineDomain),
}

/// The enum generated for an inline list of label values.
pub(crate) struct InlineDomain {
    pub(crate) ident: syn::Ident,
    pub(crate) doc: String,
    pub(crate) values: Vec<ClosedValue>,
}

/// A service level objective, targets as fractions.
pub(crate) enum Objective {
    Availability { target: f64 },
    Latency { threshold: f64, target: f64 },
}

/// A bounded dynamic label domain that passed every rule.
pub(crate) struct Dynamic {
    pub(crate) docs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: syn::Ident,
    /// The doc comments as one line.
    pub(crate) help: String,
    pub(crate) max: u32,
    pub(crate) overflow: String,
    pub(crate) max_len: usize,
}

/// What an invocation with errors still declares, so that code using its items compiles
/// quietly and the errors of the invocation are the only ones reported.
pub(crate) struct Fallback {
    pub(crate) items: Vec<Stub>,
}

pub(crate) enum Stub {
    /// A family: its static and handle type, `labels(..)` taking one parameter per label.
    Family {
        shape: Shape,
        labels: Vec<StubLabel>,
        /// The field of `label_refs()` for each label, where its name makes one.
        fields: Vec<Option<syn::Ident>>,
    },
    /// A dynamic domain: its type.
    Dynamic {
        docs: Vec<syn::Attribute>,
        vis: syn::Visibility,
        ident: syn::Ident,
    },
}

/// A parameter of a stub's `labels(..)`.
pub(crate) enum StubLabel {
    /// The declared domain type.
    Type(Box<syn::Type>),
    /// An inline list: its enum, with one variant per distinct usable value.
    Inline(InlineDomain),
    /// A label that did not parse: the parameter takes any type.
    Unknown,
}
