//! Metrics: typed families declared with [`metrics!`](macro@crate::metrics), a registry filled at
//! link time, and the Prometheus text or OpenMetrics exposition (with exemplars) served on
//! `/metrics`, and the same families pushed over OTLP ([`otlp`]).
//!
//! Label values are bounded by their types: a closed enum (`#[derive(LabelValue)]`), an inline
//! list, or a bounded dynamic domain whose excess values map to an overflow value, counted in
//! `only1mcp_obs_label_overflow_total{metric,label}`. A resolved series handle updates with one
//! atomic operation: no lock, no allocation, no string hashing.

pub mod alert;
mod cell;
mod config;
mod desc;
pub mod exemplar;
pub(crate) mod family;
mod label;
pub mod otlp;
pub mod promql;
mod registry;
#[cfg(feature = "server")]
mod server;
pub mod text;

pub use cell::{Counter, Gauge, Histogram, HistogramTimer, Point, Series};
pub use config::{DetailedMetrics, MetricsConfig, MetricsFormat};
pub use desc::{FamilyDesc, LabelDesc, MetricKind, Objective};
pub use label::{DomainDesc, DomainKind, LabelValue, MarksFailure};
pub use registry::{RegistryError, check, encode, encode_text, families, family};
#[cfg(feature = "server")]
pub use server::{MetricsServer, nodelay, router, router_for};

#[doc(hidden)]
pub mod private {
    pub use super::family::{Collect, Family, Visitor, check_budget, series_count};
    pub use super::label::Interner;
    pub use super::registry::FAMILIES;
}
