//! Rules on a family's help text, name and unit.

use crate::ctxt::{Ctxt, Reported};
use crate::metrics::model::{Kind, Name, Unit};
use crate::metrics::parse::{Declaration, Family};
use crate::text::doc_text;

/// Name suffixes that are not base units, and the base unit to use instead.
const NON_BASE_UNITS: &[(&str, &str)] = &[
    ("milliseconds", "seconds"),
    ("microseconds", "seconds"),
    ("nanoseconds", "seconds"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("ms", "seconds"),
    ("us", "seconds"),
    ("ns", "seconds"),
    ("secs", "seconds"),
    ("kilobytes", "bytes"),
    ("megabytes", "bytes"),
    ("gigabytes", "bytes"),
    ("kb", "bytes"),
    ("mb", "bytes"),
    ("gb", "bytes"),
    ("bits", "bytes"),
    ("cents", "dollars"),
];

/// Rule: every family has help text, taken from its doc comment.
pub(super) fn help(cx: &mut Ctxt, f: &Family, decl: &Declaration) -> Result<String, Reported> {
    let help = doc_text(&f.attrs);
    if help.is_empty() {
        return Err(cx.error_spanned(
            &f.ident,
            format!(
                "metric `{}` has no help text: add a `///` doc comment, it becomes the HELP line",
                decl.name.value()
            ),
        ));
    }
    Ok(help)
}

/// Rule: a declared unit is one of the base units.
pub(super) fn unit(cx: &mut Ctxt, decl: &Declaration) -> Result<Option<Unit>, Reported> {
    let Some(ident) = &decl.unit else {
        return Ok(None);
    };
    match Unit::from_name(&ident.to_string()) {
        Some(unit) => Ok(Some(unit)),
        None => {
            let known: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
            Err(cx.error_spanned(
                ident,
                format!(
                    "unknown unit `{ident}`: expected one of {}",
                    known.join(", ")
                ),
            ))
        }
    }
}

/// The rules on the name: its syntax, then (when the syntax allows judging) its suffixes.
pub(super) fn name(
    cx: &mut Ctxt,
    kind: Kind,
    decl: &Declaration,
    unit: Result<Option<Unit>, Reported>,
) -> Result<Name, Reported> {
    let lit = &decl.name;
    let name = lit.value();
    let mark = cx.mark();
    if check_syntax(cx, lit, &name).is_ok() {
        check_total_suffix(cx, kind, lit, &name);
        check_reserved_suffix(cx, lit, &name);
        check_unit_suffix(cx, kind, lit, &name, unit);
    }
    cx.since(mark)?;
    Ok(Name {
        value: name,
        span: lit.span(),
    })
}

/// Rule: names are snake_case ASCII and do not use the reserved `__` prefix.
fn check_syntax(cx: &mut Ctxt, lit: &syn::LitStr, name: &str) -> Result<(), Reported> {
    if name.starts_with("__") {
        return Err(cx.error_spanned(
            lit,
            format!("metric name `{name}` uses the `__` prefix reserved for Prometheus internals"),
        ));
    }
    let snake = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if !snake {
        let suggestion = suggest_snake(name);
        return Err(cx.error_spanned(
            lit,
            format!("metric name `{name}` is not snake_case: use lowercase ASCII letters, digits and single underscores, e.g. `{suggestion}`"),
        ));
    }
    Ok(())
}

fn suggest_snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// Rule: counters end in `_total`, and nothing else does.
fn check_total_suffix(cx: &mut Ctxt, kind: Kind, lit: &syn::LitStr, name: &str) {
    let has_total = name.ends_with("_total");
    if kind == Kind::Counter && !has_total {
        cx.error_spanned(
            lit,
            format!("counter `{name}` must end in `_total`: rename it `{name}_total`"),
        );
    } else if kind != Kind::Counter && has_total {
        cx.error_spanned(
            lit,
            format!(
                "`_total` is reserved for counters, but `{name}` is a {}: drop the suffix or declare a counter",
                kind.as_str()
            ),
        );
    }
}

/// Rule: `_bucket`, `_count` and `_sum` are the series a histogram adds; a family cannot own them.
fn check_reserved_suffix(cx: &mut Ctxt, lit: &syn::LitStr, name: &str) {
    for suffix in ["_bucket", "_count", "_sum"] {
        if name.ends_with(suffix) {
            cx.error_spanned(
                lit,
                format!("metric name `{name}` ends in `{suffix}`, which histograms append to their series; choose another name"),
            );
        }
    }
}

/// Rule: units are base units, the name ends in the declared unit (before `_total`), and a unit
/// suffix is declared. Nothing is said about the declared unit when it is unknown.
fn check_unit_suffix(
    cx: &mut Ctxt,
    kind: Kind,
    lit: &syn::LitStr,
    name: &str,
    unit: Result<Option<Unit>, Reported>,
) {
    let base = name.strip_suffix("_total").unwrap_or(name);
    let last = base.rsplit('_').next().unwrap_or(base);
    if let Some((_, good)) = NON_BASE_UNITS.iter().find(|(bad, _)| *bad == last) {
        cx.error_spanned(
            lit,
            format!(
                "`{last}` is not a base unit: measure in {good} and name the metric `..._{good}`"
            ),
        );
        return;
    }
    match unit {
        Ok(Some(unit)) => check_declared_unit(cx, kind, lit, name, unit),
        Ok(None) if Unit::from_name(last).is_some() => {
            cx.error_spanned(
                lit,
                format!("metric `{name}` ends in the unit `{last}` but declares no unit: add `unit: {last},`"),
            );
        }
        Ok(None) | Err(_) => {}
    }
}

/// Rule: the name of a family with `unit: u` ends in `_u` (before `_total`).
fn check_declared_unit(cx: &mut Ctxt, kind: Kind, lit: &syn::LitStr, name: &str, unit: Unit) {
    let unit = unit.as_str();
    let base = name.strip_suffix("_total").unwrap_or(name);
    if base.ends_with(&format!("_{unit}")) {
        return;
    }
    // Replace a different unit suffix rather than stacking a second one.
    let stem = match base.rsplit_once('_') {
        Some((stem, last)) if Unit::from_name(last).is_some() => stem,
        _ => base,
    };
    let fix = if kind == Kind::Counter {
        format!("{stem}_{unit}_total")
    } else {
        format!("{stem}_{unit}")
    };
    cx.error_spanned(
        lit,
        format!("metric `{name}` declares `unit: {unit}` but its name does not end in `_{unit}`: rename it `{fix}`"),
    );
}
