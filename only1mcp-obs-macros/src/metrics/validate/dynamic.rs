//! Rules on bounded dynamic label domains.

use super::only_docs;
use crate::ctxt::{Ctxt, Reported};
use crate::metrics::model::Dynamic;
use crate::metrics::parse::{self, DynamicOptions};
use crate::text::{doc_text, is_doc};

/// The longest value of a domain that declares no `max_len`, in bytes.
const DEFAULT_MAX_LEN: usize = 128;

/// Rule: a dynamic domain declares a maximum, and an overflow value that fits.
pub(super) fn dynamic(cx: &mut Ctxt, d: &parse::Dynamic) -> Result<Dynamic, Reported> {
    let options = d.options.as_ref().map_err(|reported| *reported)?;
    let docs = only_docs(cx, &d.attrs);
    let max = max(cx, &d.ident, options);
    let max_len = max_len(cx, options);
    let overflow = overflow(cx, &d.ident, options, max_len);
    docs?;
    Ok(Dynamic {
        docs: d.attrs.iter().filter(|a| is_doc(a)).cloned().collect(),
        vis: d.vis.clone(),
        ident: d.ident.clone(),
        help: doc_text(&d.attrs),
        max: max?,
        overflow: overflow?,
        max_len: max_len?,
    })
}

/// Rule: `max` is given, between 1 and 65535.
fn max(cx: &mut Ctxt, ident: &syn::Ident, options: &DynamicOptions) -> Result<u32, Reported> {
    match &options.max {
        None => Err(cx.error_at(
            options.brace,
            format!("dynamic domain `{ident}` needs `max: N`, the most distinct values it keeps"),
        )),
        Some(lit) => match lit.base10_parse::<u32>() {
            Ok(n) if (1..=65_535).contains(&n) => Ok(n),
            _ => Err(cx.error_spanned(lit, "`max` must be between 1 and 65535")),
        },
    }
}

/// Rule: `max_len`, if given, is a positive number of bytes (else 128).
fn max_len(cx: &mut Ctxt, options: &DynamicOptions) -> Result<usize, Reported> {
    match &options.max_len {
        None => Ok(DEFAULT_MAX_LEN),
        Some(lit) => match lit.base10_parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(cx.error_spanned(lit, "`max_len` must be a positive number of bytes")),
        },
    }
}

/// Rule: `overflow` is given, not empty, and no longer than `max_len` (when that is valid).
fn overflow(
    cx: &mut Ctxt,
    ident: &syn::Ident,
    options: &DynamicOptions,
    max_len: Result<usize, Reported>,
) -> Result<String, Reported> {
    let Some(lit) = &options.overflow else {
        return Err(cx.error_at(
            options.brace,
            format!("dynamic domain `{ident}` needs `overflow: \"..\"`, the value that stands for every value past `max`"),
        ));
    };
    let value = lit.value();
    if value.is_empty() {
        return Err(cx.error_spanned(lit, "the overflow value cannot be empty"));
    }
    if value.len() > max_len? {
        return Err(cx.error_spanned(lit, "the overflow value is longer than `max_len`"));
    }
    Ok(value)
}
