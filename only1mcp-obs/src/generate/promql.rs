//! PromQL built from family descriptors: a metric or label name that the code does not declare
//! cannot be written here, because every name comes from a descriptor.

use super::GenerateError;
use crate::metrics::text::format_float;
use crate::metrics::{DomainKind, FamilyDesc, MetricKind};

/// A family as the generator uses it.
#[derive(Debug, Clone, Copy)]
pub struct Family(pub &'static FamilyDesc);

impl Family {
    /// The sample name: the family name, or `name_bucket` / `_count` / `_sum` of a histogram.
    pub fn series(&self, suffix: &str) -> Result<String, GenerateError> {
        match (self.0.kind, suffix) {
            (_, "") => Ok(self.0.name.to_owned()),
            (MetricKind::Histogram, "_bucket" | "_count" | "_sum") => {
                Ok(format!("{}{suffix}", self.0.name))
            }
            _ => Err(GenerateError(format!(
                "{} is a {}, it has no {suffix} series",
                self.0.name,
                self.0.kind.as_str()
            ))),
        }
    }

    /// A declared label's name.
    pub fn label(&self, name: &str) -> Result<&'static str, GenerateError> {
        self.0
            .labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.name)
            .ok_or_else(|| GenerateError(format!("{} has no label `{name}`", self.0.name)))
    }

    /// The values of a closed-domain label marked `#[label(error)]`.
    pub fn error_values(&self, label: &str) -> Result<&'static [&'static str], GenerateError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed { error_values, .. }) if !error_values.is_empty() => {
                Ok(error_values)
            }
            _ => Err(GenerateError(format!(
                "{}'s `{label}` has no closed domain with error values",
                self.0.name
            ))),
        }
    }

    /// The first value of a closed-domain label that is not an error value.
    pub fn ok_value(&self, label: &str) -> Result<&'static str, GenerateError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed {
                values,
                error_values,
            }) => values
                .iter()
                .copied()
                .find(|v| !error_values.contains(v))
                .ok_or_else(|| {
                    GenerateError(format!("{}'s `{label}` has only error values", self.0.name))
                }),
            _ => Err(GenerateError(format!(
                "{}'s `{label}` is not a closed domain",
                self.0.name
            ))),
        }
    }

    /// A value of a closed-domain label, checked to be in the domain.
    pub fn value(&self, label: &str, value: &'static str) -> Result<&'static str, GenerateError> {
        let desc = self.0.labels.iter().find(|l| l.name == label);
        match desc.map(|l| &l.domain.kind) {
            Some(DomainKind::Closed { values, .. }) if values.contains(&value) => Ok(value),
            _ => Err(GenerateError(format!(
                "`{value}` is not a value of {}'s `{label}`",
                self.0.name
            ))),
        }
    }

    /// The `le` value of a declared bucket bound, as the exposition writes it (and Prometheus 3
    /// normalises it): `0.1`, `1.0`.
    pub fn le(&self, bound: f64) -> Result<String, GenerateError> {
        if self.0.buckets.contains(&bound) {
            Ok(format_float(bound))
        } else {
            Err(GenerateError(format!(
                "{bound} is not a bucket bound of {}",
                self.0.name
            )))
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
