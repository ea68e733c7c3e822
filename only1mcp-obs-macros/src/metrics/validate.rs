//! Every semantic rule of `metrics!`, one small `check_*` function each. Errors sit on the
//! user's tokens and say what to write instead.

use super::parse::{Buckets, Domain, Dynamic, Family, Input, Item, Kind, Label};
use crate::ctxt::{Ctxt, camel_case, doc_text};
use proc_macro2::Span;
use std::collections::HashMap;

/// Units a family may declare: (unit, whether negative bucket bounds make sense).
pub(crate) const UNITS: &[(&str, bool)] = &[
    ("seconds", false),
    ("bytes", false),
    ("ratio", false),
    ("percent", false),
    ("dollars", false),
    ("meters", false),
    ("grams", false),
    ("joules", false),
    ("celsius", true),
    ("volts", true),
    ("amperes", true),
];

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

/// Words that make a label name high-cardinality wherever they stand (`user_email`,
/// `customer_ip`): they name one value per request, user or host.
pub(crate) const HIGH_CARDINALITY_WORDS: &[&str] = &[
    "user",
    "username",
    "customer",
    "session",
    "trace",
    "span",
    "email",
    "mail",
    "phone",
    "ip",
    "ipv4",
    "ipv6",
    "ipaddr",
    "mac",
    "url",
    "uri",
    "path",
    "query",
    "uuid",
    "guid",
    "token",
    "timestamp",
];

/// Words that make a label name high-cardinality when an identifier word (`id`, `uid`, `key`,
/// `number`) follows them (`request_id`, `client_id`, `order_number`).
pub(crate) const PER_REQUEST_WORDS: &[&str] = &[
    "request",
    "correlation",
    "client",
    "account",
    "message",
    "transaction",
    "order",
    "device",
    "conversation",
    "call",
    "event",
    "job",
    "run",
    "invocation",
];

const IDENTIFIER_WORDS: &[&str] = &["id", "uid", "key", "number"];

/// Why a label name looks high-cardinality: the words that gave it away.
pub(crate) fn high_cardinality_words(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .trim_start_matches("r#")
        .split('_')
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(word) = words.iter().find(|w| HIGH_CARDINALITY_WORDS.contains(w)) {
        return Some(format!("`{word}`"));
    }
    words.windows(2).find_map(|pair| {
        (PER_REQUEST_WORDS.contains(&pair[0]) && IDENTIFIER_WORDS.contains(&pair[1]))
            .then(|| format!("`{}_{}`", pair[0], pair[1]))
    })
}

/// Most labels one family may have; more is nearly always a modelling mistake.
const MAX_LABELS: usize = 16;
pub(crate) const DEFAULT_BUDGET: u64 = 1000;
pub(crate) const DEFAULT_MAX_LEN: usize = 128;

pub(crate) fn check(input: &Input) -> syn::Result<()> {
    let mut cx = Ctxt::default();
    let mut names: HashMap<String, Span> = HashMap::new();
    for item in &input.items {
        match item {
            Item::Family(f) => {
                check_family(&mut cx, f);
                // Rule: a metric name is declared once per invocation (across the crate: see expand).
                let name = f.name.value();
                if let Some(first) = names.get(&name) {
                    let mut e = syn::Error::new(
                        f.name.span(),
                        format!("metric `{name}` is declared twice"),
                    );
                    e.combine(syn::Error::new(
                        *first,
                        format!("first declaration of `{name}` is here"),
                    ));
                    cx.push(e);
                } else {
                    names.insert(name, f.name.span());
                }
            }
            Item::Dynamic(d) => check_dynamic(&mut cx, d),
        }
    }
    cx.check()
}

fn check_family(cx: &mut Ctxt, f: &Family) {
    check_attrs(cx, &f.attrs);
    check_help(cx, f);
    let name = f.name.value();
    if check_name_syntax(cx, f, &name) {
        check_total_suffix(cx, f, &name);
        check_reserved_suffix(cx, f, &name);
        check_unit(cx, f, &name);
    }
    check_buckets(cx, f);
    check_budget(cx, f);
    check_objectives(cx, f);
    let labels = f.labels.as_deref().unwrap_or_default();
    if labels.len() > MAX_LABELS {
        cx.error_at(
            f.brace,
            format!(
                "{} labels is too many: a family has at most {MAX_LABELS}",
                labels.len()
            ),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        check_label(cx, label, &labels[..i]);
    }
}

/// Rule: only doc comments are accepted on a family; they are its HELP text.
fn check_attrs(cx: &mut Ctxt, attrs: &[syn::Attribute]) {
    for attr in attrs.iter().filter(|a| !a.path().is_ident("doc")) {
        cx.error_spanned(
            attr,
            "unsupported attribute: only `///` doc comments are accepted here",
        );
    }
}

/// Rule: every family has help text, taken from its doc comment.
fn check_help(cx: &mut Ctxt, f: &Family) {
    if doc_text(&f.attrs).is_empty() {
        cx.error_spanned(
            &f.ident,
            format!(
                "metric `{}` has no help text: add a `///` doc comment, it becomes the HELP line",
                f.name.value()
            ),
        );
    }
}

/// Rule: names are snake_case ASCII and do not use the reserved `__` prefix. Returns false when
/// the name is too broken for the suffix rules to say anything useful.
fn check_name_syntax(cx: &mut Ctxt, f: &Family, name: &str) -> bool {
    if name.starts_with("__") {
        cx.error_spanned(
            &f.name,
            format!("metric name `{name}` uses the `__` prefix reserved for Prometheus internals"),
        );
        return false;
    }
    let snake = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if !snake {
        let suggestion = suggest_snake(name);
        cx.error_spanned(
            &f.name,
            format!("metric name `{name}` is not snake_case: use lowercase ASCII letters, digits and single underscores, e.g. `{suggestion}`"),
        );
    }
    snake
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
fn check_total_suffix(cx: &mut Ctxt, f: &Family, name: &str) {
    let has_total = name.ends_with("_total");
    if f.kind == Kind::Counter && !has_total {
        cx.error_spanned(
            &f.name,
            format!("counter `{name}` must end in `_total`: rename it `{name}_total`"),
        );
    } else if f.kind != Kind::Counter && has_total {
        cx.error_spanned(
            &f.name,
            format!("`_total` is reserved for counters, but `{name}` is a {}: drop the suffix or declare a counter", f.kind.as_str()),
        );
    }
}

/// Rule: `_bucket`, `_count` and `_sum` are the series a histogram adds; a family cannot own them.
fn check_reserved_suffix(cx: &mut Ctxt, f: &Family, name: &str) {
    for suffix in ["_bucket", "_count", "_sum"] {
        if name.ends_with(suffix) {
            cx.error_spanned(
                &f.name,
                format!("metric name `{name}` ends in `{suffix}`, which histograms append to their series; choose another name"),
            );
        }
    }
}

/// Rule: the name ends in the declared unit (before `_total`), an undeclared unit suffix is
/// declared, and units are base units.
fn check_unit(cx: &mut Ctxt, f: &Family, name: &str) {
    let base = name.strip_suffix("_total").unwrap_or(name);
    let last = base.rsplit('_').next().unwrap_or(base);
    if let Some((_, good)) = NON_BASE_UNITS.iter().find(|(bad, _)| *bad == last) {
        cx.error_spanned(
            &f.name,
            format!(
                "`{last}` is not a base unit: measure in {good} and name the metric `..._{good}`"
            ),
        );
        return;
    }
    match &f.unit {
        Some(unit) => {
            let unit_str = unit.to_string();
            if !UNITS.iter().any(|(u, _)| *u == unit_str) {
                let known: Vec<_> = UNITS.iter().map(|(u, _)| *u).collect();
                cx.error_spanned(
                    unit,
                    format!(
                        "unknown unit `{unit_str}`: expected one of {}",
                        known.join(", ")
                    ),
                );
            } else if !base.ends_with(&format!("_{unit_str}")) {
                // Replace a different unit suffix rather than stacking a second one.
                let stem = match UNITS.iter().find(|(u, _)| *u == last) {
                    Some(_) => &base[..base.len() - last.len() - 1],
                    None => base,
                };
                let base = stem;
                let fix = if f.kind == Kind::Counter {
                    format!("{base}_{unit_str}_total")
                } else {
                    format!("{base}_{unit_str}")
                };
                cx.error_spanned(
                    &f.name,
                    format!("metric `{name}` declares `unit: {unit_str}` but its name does not end in `_{unit_str}`: rename it `{fix}`"),
                );
            }
        }
        None => {
            if UNITS.iter().any(|(u, _)| *u == last) {
                cx.error_spanned(
                    &f.name,
                    format!("metric `{name}` ends in the unit `{last}` but declares no unit: add `unit: {last},`"),
                );
            }
        }
    }
}

/// Rule: histograms have a non-empty, strictly increasing list of finite bounds; other kinds
/// have none; negative bounds only for units that can be negative.
fn check_buckets(cx: &mut Ctxt, f: &Family) {
    match (&f.buckets, f.kind) {
        (None, Kind::Histogram) => cx.error_at(
            f.brace,
            format!(
                "histogram `{}` needs `buckets: [..]`, finite upper bounds in increasing order",
                f.name.value()
            ),
        ),
        (Some(b), Kind::Histogram) => check_bounds(cx, f, b),
        (Some(b), kind) => cx.error_at(
            b.span,
            format!("a {} has no buckets: remove `buckets`", kind.as_str()),
        ),
        (None, _) => {}
    }
}

fn check_bounds(cx: &mut Ctxt, f: &Family, b: &Buckets) {
    if b.bounds.is_empty() {
        cx.error_at(
            b.span,
            "empty `buckets`: give at least one finite upper bound (`+Inf` is always added)",
        );
        return;
    }
    let signed = f
        .unit
        .as_ref()
        .is_some_and(|u| UNITS.iter().any(|(n, s)| *s && u == n));
    let mut previous: Option<f64> = None;
    for expr in &b.bounds {
        let Some(value) = bound_value(cx, expr) else {
            continue;
        };
        if value < 0.0 && !signed {
            let what = f
                .unit
                .as_ref()
                .map_or("this quantity".to_owned(), |u| format!("a value in {u}"));
            cx.error_spanned(
                expr,
                format!("negative bucket bound {value}: {what} is never negative"),
            );
        }
        match previous {
            Some(p) if value == p => cx.error_spanned(
                expr,
                format!("duplicate bucket bound {value}: each bound must appear once"),
            ),
            Some(p) if value < p => cx.error_spanned(
                expr,
                format!(
                    "bucket bound {value} comes after {p}: list bounds in strictly increasing order"
                ),
            ),
            _ => {}
        }
        previous = Some(value);
    }
}

/// Reads a numeric literal, possibly negated; anything else (including NaN and infinity) is an error.
pub(crate) fn bound_value(cx: &mut Ctxt, expr: &syn::Expr) -> Option<f64> {
    let (negative, inner) = match expr {
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => (true, &**expr),
        other => (false, other),
    };
    let value = match inner {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().ok(),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<f64>().ok(),
        _ => None,
    };
    match value {
        Some(v) if v.is_finite() => Some(if negative { -v } else { v }),
        Some(_) => {
            cx.error_spanned(
                expr,
                "bucket bound is not finite: bounds must be finite (`+Inf` is always added)",
            );
            None
        }
        None => {
            let text = quote::quote!(#expr).to_string().replace(' ', "");
            let why = if text.contains("NAN") || text.contains("INFINITY") {
                "NaN and infinities are not bucket bounds (`+Inf` is always added)"
            } else {
                "write bounds as numeric literals such as `0.25`"
            };
            cx.error_spanned(expr, format!("`{text}` is not a bucket bound: {why}"));
            None
        }
    }
}

/// Rule: a budget is a positive integer.
fn check_budget(cx: &mut Ctxt, f: &Family) {
    if let Some(b) = &f.budget
        && !matches!(b.base10_parse::<u64>(), Ok(n) if n > 0)
    {
        cx.error_spanned(
            b,
            "`budget` is the most series this family may have: a positive integer",
        );
    }
}

fn check_label(cx: &mut Ctxt, label: &Label, before: &[Label]) {
    for attr in &label.other_attrs {
        cx.error_spanned(
            attr,
            "unsupported attribute on a label: only `#[allow_high_cardinality(reason = \"..\")]`",
        );
    }
    let name = &label.name;
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        cx.error_at(
            label.name_span,
            format!("invalid label name `{name}`: use ASCII letters, digits and underscores, not starting with a digit"),
        );
    } else if name.starts_with("__") {
        cx.error_at(
            label.name_span,
            format!("label name `{name}` uses the `__` prefix reserved for Prometheus internals"),
        );
    } else if matches!(name.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        // A label becomes a parameter of `labels(..)`: these cannot name one, even as `r#..`.
        cx.error_at(
            label.name_span,
            format!("label name `{name}` cannot name a Rust parameter, not even as a raw identifier: rename the label"),
        );
    } else if name == "le" || name == "quantile" {
        cx.error_at(
            label.name_span,
            format!("label name `{name}` is reserved: Prometheus uses it for histogram and summary series"),
        );
    }
    if before.iter().any(|l| l.name == *name) {
        cx.error_at(
            label.name_span,
            format!("duplicate label `{name}`: each label appears once per family"),
        );
    }
    check_high_cardinality(cx, label);
    if let Domain::Inline { span, values } = &label.domain {
        check_inline(cx, *span, values);
    }
}

/// Rule: label names that usually take one value per request need an explicit, reasoned opt-in.
fn check_high_cardinality(cx: &mut Ctxt, label: &Label) {
    let name = &label.name;
    match (&label.allow_high_cardinality, high_cardinality_words(name)) {
        (None, Some(words)) => cx.error_at(
            label.name_span,
            format!(
                "label `{name}` contains {words}, which usually has one value per request, user or host and would make unbounded series; \
                 drop it (put it on spans or logs), or, if its domain really is small, add \
                 `#[allow_high_cardinality(reason = \"..\")]` saying why"
            ),
        ),
        (Some((attr, reason)), _) if reason.as_ref().is_none_or(|r| r.value().trim().is_empty()) => cx.error_spanned(
            attr,
            "`allow_high_cardinality` needs a reason: `#[allow_high_cardinality(reason = \"why this label stays bounded\")]`",
        ),
        _ => {}
    }
}

/// Rule: an inline domain lists distinct, non-empty values that map to distinct variants.
fn check_inline(cx: &mut Ctxt, span: Span, values: &[syn::LitStr]) {
    if values.is_empty() {
        cx.error_at(span, "empty label domain: list at least one value");
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, lit) in values.iter().enumerate() {
        let v = lit.value();
        if v.is_empty() {
            cx.error_spanned(
                lit,
                "empty label value: Prometheus treats \"\" as an absent label",
            );
        } else if values[..i].iter().any(|p| p.value() == v) {
            cx.error_spanned(
                lit,
                format!("duplicate label value \"{v}\": each value names one series"),
            );
        } else if let Some(other) = seen.insert(camel_case(&v), v.clone()) {
            cx.error_spanned(
                lit,
                format!("values \"{other}\" and \"{v}\" would both become variant `{}`: derive `LabelValue` on an enum instead", camel_case(&v)),
            );
        }
    }
}

/// Rule: a dynamic domain declares a positive maximum and a non-empty overflow value that fits.
fn check_dynamic(cx: &mut Ctxt, d: &Dynamic) {
    check_attrs(cx, &d.attrs);
    match &d.max {
        None => cx.error_at(
            d.brace,
            format!(
                "dynamic domain `{}` needs `max: N`, the most distinct values it keeps",
                d.ident
            ),
        ),
        Some(m) if !matches!(m.base10_parse::<u32>(), Ok(n) if (1..=65_535).contains(&n)) => {
            cx.error_spanned(m, "`max` must be between 1 and 65535");
        }
        _ => {}
    }
    let max_len = match &d.max_len {
        Some(l) => match l.base10_parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                cx.error_spanned(l, "`max_len` must be a positive number of bytes");
                DEFAULT_MAX_LEN
            }
        },
        None => DEFAULT_MAX_LEN,
    };
    match &d.overflow {
        None => cx.error_at(
            d.brace,
            format!("dynamic domain `{}` needs `overflow: \"..\"`, the value that stands for every value past `max`", d.ident),
        ),
        Some(o) if o.value().is_empty() => cx.error_spanned(o, "the overflow value cannot be empty"),
        Some(o) if o.value().len() > max_len => cx.error_spanned(o, "the overflow value is longer than `max_len`"),
        _ => {}
    }
}

/// A checked objective: availability (counters) or latency (histograms), targets as fractions.
pub(crate) enum CheckedObjective {
    Availability { target: f64 },
    Latency { threshold: f64, target: f64 },
}

/// Reads a percentage strictly between 0 and 100.
fn percent(cx: &mut Ctxt, expr: &syn::Expr) -> Option<f64> {
    let value = bound_value(cx, expr)?;
    if value > 0.0 && value < 100.0 {
        Some(value / 100.0)
    } else {
        cx.error_spanned(expr, format!("objective target {value} is not a percentage strictly between 0 and 100, e.g. `99.9`"));
        None
    }
}

/// Rule: `availability(percent)` on counters; `latency(seconds, percent)` on histograms, where
/// the threshold is one of the declared bucket bounds (the SLI counts that bucket).
pub(crate) fn check_objectives(cx: &mut Ctxt, f: &Family) -> Vec<CheckedObjective> {
    let mut out = Vec::new();
    let Some((_, objectives)) = &f.objectives else {
        return out;
    };
    let bounds: Vec<f64> = {
        let mut scratch = Ctxt::default();
        f.buckets
            .iter()
            .flat_map(|b| &b.bounds)
            .filter_map(|e| bound_value(&mut scratch, e))
            .collect()
    };
    for objective in objectives {
        match (objective.kind.to_string().as_str(), objective.args.as_slice(), f.kind) {
            ("availability", [target], Kind::Counter) => {
                if let Some(target) = percent(cx, target) {
                    out.push(CheckedObjective::Availability { target });
                }
            }
            ("latency", [threshold, target], Kind::Histogram) => {
                let threshold_value = bound_value(cx, threshold);
                let target = percent(cx, target);
                if let Some(t) = threshold_value {
                    if !bounds.contains(&t) {
                        let list: Vec<String> = bounds.iter().map(|b| b.to_string()).collect();
                        cx.error_spanned(
                            threshold,
                            format!(
                                "latency threshold {t} is not a bucket bound of `{}`, so no series counts requests under it; \
                                 use one of [{}] or add {t} to `buckets`",
                                f.name.value(),
                                list.join(", ")
                            ),
                        );
                    } else if let Some(target) = target {
                        out.push(CheckedObjective::Latency { threshold: t, target });
                    }
                }
            }
            ("availability", _, Kind::Counter) => {
                cx.error_spanned(&objective.kind, "`availability` takes one argument: the target percentage, e.g. `availability(99.9)`");
            }
            ("latency", _, Kind::Histogram) => cx.error_spanned(
                &objective.kind,
                "`latency` takes two arguments: a bucket bound in the family's unit and the target percentage, e.g. `latency(0.25, 99.0)`",
            ),
            ("availability", _, kind) => cx.error_spanned(
                &objective.kind,
                format!("an availability objective goes on a counter with a status label, not on a {}", kind.as_str()),
            ),
            ("latency", _, kind) => {
                cx.error_spanned(&objective.kind, format!("a latency objective goes on a histogram, not on a {}", kind.as_str()))
            }
            (other, _, _) => cx.error_spanned(
                &objective.kind,
                format!("unknown objective `{other}`: expected `availability(percent)` or `latency(bound, percent)`"),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::high_cardinality_words;

    #[test]
    fn label_names_are_judged_by_their_words() {
        for (name, word) in [
            ("user_email", "`user`"),
            ("customer_ip", "`customer`"),
            ("client_ip", "`ip`"),
            ("request_id", "`request_id`"),
            ("client_id", "`client_id`"),
            ("order_number", "`order_number`"),
            ("page_url", "`url`"),
            ("Session", "`session`"),
        ] {
            assert_eq!(
                high_cardinality_words(name).as_deref(),
                Some(word),
                "{name}"
            );
        }
        for name in [
            "server_id",
            "method",
            "mcp_method_name",
            "error_type",
            "gen_ai_tool_name",
            "r#type",
            "ship_zone",
            "client",
            "request_kind",
        ] {
            assert_eq!(high_cardinality_words(name), None, "{name}");
        }
    }
}
