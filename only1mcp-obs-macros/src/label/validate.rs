//! Rules of `#[derive(LabelValue)]`.

use super::{ClosedDomain, ClosedValue};
use crate::ctxt::{Ctxt, Reported};
use crate::text::{doc_text, snake_case};
use quote::ToTokens;

pub(super) fn validate(input: &syn::DeriveInput) -> syn::Result<ClosedDomain> {
    let mut cx = Ctxt::new();
    let domain = domain(&mut cx, input);
    cx.finish(domain)
}

/// Rule: a label domain is a non-generic enum of unit variants with distinct, non-empty values.
fn domain(cx: &mut Ctxt, input: &syn::DeriveInput) -> Result<ClosedDomain, Reported> {
    let syn::Data::Enum(data) = &input.data else {
        return Err(cx.error_spanned(
            &input.ident,
            "`LabelValue` can only be derived for a fieldless enum: a closed label domain; \
             declare a bounded dynamic domain with `dynamic Name { max: .., overflow: \"..\" }` \
             in `metrics!`",
        ));
    };
    let generics = if input.generics.params.is_empty() {
        Ok(())
    } else {
        Err(cx.error_spanned(&input.generics, "a label domain cannot be generic"))
    };
    let inhabited = if data.variants.is_empty() {
        Err(cx.error_spanned(&input.ident, "a label domain needs at least one variant"))
    } else {
        Ok(())
    };
    let values: Vec<Result<ClosedValue, Reported>> =
        data.variants.iter().map(|v| variant(cx, v)).collect();
    let distinct = check_values(cx, values.iter().filter_map(|v| v.as_ref().ok()));
    generics?;
    inhabited?;
    distinct?;
    Ok(ClosedDomain {
        ident: input.ident.clone(),
        doc: doc_text(&input.attrs),
        values: values.into_iter().collect::<Result<_, _>>()?,
    })
}

/// Rule: a variant has no fields; its value is `#[label(value = "..")]` or its snake_case name.
fn variant(cx: &mut Ctxt, variant: &syn::Variant) -> Result<ClosedValue, Reported> {
    let fields = if matches!(variant.fields, syn::Fields::Unit) {
        Ok(())
    } else {
        Err(cx.error_spanned(
            &variant.fields,
            format!(
                "variant `{}` has fields; a label value is a unit variant",
                variant.ident
            ),
        ))
    };
    let options = options(variant).map_err(|error| cx.push(error));
    fields?;
    let (value, is_error) = options?;
    let (value, value_span) = match value {
        Some(lit) => (lit.value(), lit.span()),
        None => (snake_case(&variant.ident.to_string()), variant.ident.span()),
    };
    Ok(ClosedValue {
        variant: variant.ident.clone(),
        value,
        value_span,
        is_error,
    })
}

/// Reads `#[label(value = "..", error)]`, in one attribute or several.
fn options(variant: &syn::Variant) -> syn::Result<(Option<syn::LitStr>, bool)> {
    let mut value: Option<syn::LitStr> = None;
    let mut is_error = false;
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("label")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("value") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                if value.replace(lit).is_some() {
                    return Err(
                        meta.error("duplicate option `value`: give each option at most once")
                    );
                }
                Ok(())
            } else if meta.path.is_ident("error") {
                is_error = true;
                Ok(())
            } else {
                Err(meta.error(format!(
                    "unknown option `{}`: expected `value = \"..\"` or `error`",
                    meta.path.to_token_stream()
                )))
            }
        })?;
    }
    Ok((value, is_error))
}

/// Rule: values of one domain are distinct and non-empty (Prometheus reads "" as an absent label).
fn check_values<'a>(
    cx: &mut Ctxt,
    values: impl Iterator<Item = &'a ClosedValue>,
) -> Result<(), Reported> {
    let mark = cx.mark();
    let mut seen: Vec<&ClosedValue> = Vec::new();
    for v in values {
        if v.value.is_empty() {
            cx.error_at(
                v.value_span,
                "empty label value: Prometheus treats \"\" as an absent label; name the value, \
                 or use `Option<Domain>` for a label that may be absent",
            );
        }
        if let Some(first) = seen.iter().find(|p| p.value == v.value) {
            cx.error_at(
                v.value_span,
                format!(
                    "duplicate label value \"{}\" (also used by `{}`): each value names one series",
                    v.value, first.variant
                ),
            );
        }
        seen.push(v);
    }
    cx.since(mark)
}
