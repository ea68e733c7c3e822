//! Rules on a family's labels and their domains.

use super::inline_type;
use crate::ctxt::{Ctxt, Reported};
use crate::label::ClosedValue;
use crate::metrics::model::{Domain, InlineDomain, Label};
use crate::metrics::parse::{self, Declaration};
use crate::text::camel_case;
use proc_macro2::Span;
use quote::format_ident;
use std::collections::HashMap;

/// Most labels one family may have; more is nearly always a modelling mistake.
const MAX_LABELS: usize = 16;

/// Words that make a label name high-cardinality wherever they stand (`user_email`,
/// `customer_ip`): they name one value per request, user or host.
const HIGH_CARDINALITY_WORDS: &[&str] = &[
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
const PER_REQUEST_WORDS: &[&str] = &[
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
fn high_cardinality_words(name: &str) -> Option<String> {
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

/// Rule: at most 16 labels, each of them valid.
pub(super) fn labels(
    cx: &mut Ctxt,
    family_ty: &syn::Ident,
    decl: &Declaration,
) -> Result<Vec<Label>, Reported> {
    let count = if decl.labels.len() > MAX_LABELS {
        Err(cx.error_at(
            decl.brace,
            format!(
                "{} labels is too many: a family has at most {MAX_LABELS}",
                decl.labels.len()
            ),
        ))
    } else {
        Ok(())
    };
    let lowered: Vec<Result<Label, Reported>> = decl
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| self::label(cx, family_ty, label, &decl.labels[..i]))
        .collect();
    count?;
    lowered.into_iter().collect()
}

fn label(
    cx: &mut Ctxt,
    family_ty: &syn::Ident,
    label: &parse::Label,
    before: &[parse::Label],
) -> Result<Label, Reported> {
    let attrs = check_attrs(cx, label);
    let param = param(cx, label, before);
    let reason = high_cardinality_reason(cx, label);
    let domain = match &label.domain {
        parse::Domain::Type(ty) => Ok(Domain::Type(ty.clone())),
        parse::Domain::Inline { span, values } => {
            inline(cx, family_ty, &label.name, *span, values).map(Domain::Inline)
        }
    };
    attrs?;
    Ok(Label {
        name: label.name.clone(),
        param: param?,
        domain: domain?,
        high_cardinality_reason: reason?,
    })
}

/// Rule: the only attribute of a label is `#[allow_high_cardinality(..)]`.
fn check_attrs(cx: &mut Ctxt, label: &parse::Label) -> Result<(), Reported> {
    let mark = cx.mark();
    for attr in &label.other_attrs {
        cx.error_spanned(
            attr,
            "unsupported attribute on a label: only `#[allow_high_cardinality(reason = \"..\")]`",
        );
    }
    cx.since(mark)
}

/// Rule: a label name is a valid Prometheus name, not reserved, usable as a Rust parameter, and
/// unique in its family. Gives the parameter of `labels(..)` (`r#type` for keywords).
fn param(
    cx: &mut Ctxt,
    label: &parse::Label,
    before: &[parse::Label],
) -> Result<syn::Ident, Reported> {
    let name = &label.name;
    let span = label.name_span;
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let syntax = if !valid {
        Err(cx.error_at(span, format!("invalid label name `{name}`: use ASCII letters, digits and underscores, not starting with a digit")))
    } else if name.starts_with("__") {
        Err(cx.error_at(
            span,
            format!("label name `{name}` uses the `__` prefix reserved for Prometheus internals"),
        ))
    } else if matches!(name.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        Err(cx.error_at(span, format!("label name `{name}` cannot name a Rust parameter, not even as a raw identifier: rename the label")))
    } else if name == "le" || name == "quantile" {
        Err(cx.error_at(span, format!("label name `{name}` is reserved: Prometheus uses it for histogram and summary series")))
    } else {
        Ok(())
    };
    let unique = if before.iter().any(|l| l.name == *name) {
        Err(cx.error_at(
            span,
            format!("duplicate label `{name}`: each label appears once per family"),
        ))
    } else {
        Ok(())
    };
    syntax?;
    unique?;
    // Letters, digits and underscores that do not parse as an identifier make a keyword, which
    // a raw identifier can name (the names it cannot were rejected above).
    Ok(syn::parse_str::<syn::Ident>(name)
        .unwrap_or_else(|_| syn::Ident::new_raw(name, Span::call_site())))
}

/// Rule: label names that usually take one value per request need an explicit, reasoned opt-in.
fn high_cardinality_reason(
    cx: &mut Ctxt,
    label: &parse::Label,
) -> Result<Option<syn::LitStr>, Reported> {
    let name = &label.name;
    match (&label.allow_high_cardinality, high_cardinality_words(name)) {
        (None, Some(words)) => Err(cx.error_at(
            label.name_span,
            format!(
                "label `{name}` contains {words}, which usually has one value per request, user or host and would make unbounded series; \
                 drop it (put it on spans or logs), or, if its domain really is small, add \
                 `#[allow_high_cardinality(reason = \"..\")]` saying why"
            ),
        )),
        (None, None) => Ok(None),
        (Some((_, Some(reason))), _) if !reason.value().trim().is_empty() => {
            Ok(Some(reason.clone()))
        }
        (Some((attr, _)), _) => Err(cx.error_spanned(
            attr,
            "`allow_high_cardinality` needs a reason: `#[allow_high_cardinality(reason = \"why this label stays bounded\")]`",
        )),
    }
}

/// Rule: an inline domain lists distinct, non-empty values that map to distinct variants.
fn inline(
    cx: &mut Ctxt,
    family_ty: &syn::Ident,
    label: &str,
    span: Span,
    values: &[syn::LitStr],
) -> Result<InlineDomain, Reported> {
    let mark = cx.mark();
    if values.is_empty() {
        cx.error_at(span, "empty label domain: list at least one value");
    }
    let mut variants: HashMap<String, String> = HashMap::new();
    for (i, lit) in values.iter().enumerate() {
        let value = lit.value();
        let variant = camel_case(&value);
        if value.is_empty() {
            cx.error_spanned(
                lit,
                "empty label value: Prometheus treats \"\" as an absent label",
            );
        } else if values[..i].iter().any(|p| p.value() == value) {
            cx.error_spanned(
                lit,
                format!("duplicate label value \"{value}\": each value names one series"),
            );
        } else if let Some(other) = variants.insert(variant.clone(), value.clone()) {
            cx.error_spanned(
                lit,
                format!("values \"{other}\" and \"{value}\" would both become variant `{variant}`: derive `LabelValue` on an enum instead"),
            );
        } else if variant == "Self" {
            cx.error_spanned(
                lit,
                format!("value \"{value}\" would become variant `Self`, a Rust keyword: derive `LabelValue` on an enum instead, with `#[label(value = \"{value}\")]` on a variant"),
            );
        }
    }
    cx.since(mark)?;
    Ok(inline_domain(family_ty, label, values))
}

/// The enum of an inline list; one variant per value, in order (values already distinct).
pub(super) fn inline_domain(
    family_ty: &syn::Ident,
    label: &str,
    values: &[syn::LitStr],
) -> InlineDomain {
    InlineDomain {
        ident: inline_type(family_ty, label),
        doc: format!("Values of the label `{label}` of [`{family_ty}`]."),
        values: values
            .iter()
            .map(|lit| ClosedValue {
                variant: format_ident!("{}", camel_case(&lit.value()), span = lit.span()),
                value: lit.value(),
                value_span: lit.span(),
                is_error: false,
            })
            .collect(),
    }
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
