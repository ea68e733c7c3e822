//! `#[derive(LabelValue)]` and the closed-domain code shared with `metrics!` inline lists.

use crate::ctxt::{Ctxt, doc_text, snake_case};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};

/// One value of a closed domain.
pub(crate) struct ClosedValue {
    pub(crate) variant: syn::Ident,
    pub(crate) value: String,
    pub(crate) value_span: Span,
    pub(crate) is_error: bool,
}

pub(crate) fn derive(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let syn::Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`LabelValue` can only be derived for a fieldless enum: a closed label domain; \
             declare a bounded dynamic domain with `dynamic Name { max: .., overflow: \"..\" }` in `metrics!`",
        ));
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned(&input.generics, "a label domain cannot be generic");
    }
    if data.variants.is_empty() {
        cx.error_spanned(&input.ident, "a label domain needs at least one variant");
    }
    let mut values = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned(
                &variant.fields,
                format!(
                    "variant `{}` has fields; a label value is a unit variant",
                    variant.ident
                ),
            );
        }
        if let Some(value) = parse_variant(&mut cx, variant) {
            values.push(value);
        }
    }
    check_values(&mut cx, &values);
    cx.check()?;
    Ok(closed_impl(
        &input.ident,
        &doc_text(&input.attrs),
        &values,
        false,
    ))
}

/// Reads `#[label(value = "..", error)]` from a variant.
fn parse_variant(cx: &mut Ctxt, variant: &syn::Variant) -> Option<ClosedValue> {
    let mut value: Option<syn::LitStr> = None;
    let mut is_error = false;
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("label")) {
        let result = attr.parse_nested_meta(|meta| {
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
        });
        if let Err(e) = result {
            cx.push(e);
            return None;
        }
    }
    let (text, span) = match &value {
        Some(lit) => (lit.value(), lit.span()),
        None => (snake_case(&variant.ident.to_string()), variant.ident.span()),
    };
    Some(ClosedValue {
        variant: variant.ident.clone(),
        value: text,
        value_span: span,
        is_error,
    })
}

/// Rule: values of one domain are distinct and non-empty (Prometheus reads "" as an absent label).
pub(crate) fn check_values(cx: &mut Ctxt, values: &[ClosedValue]) {
    for (i, v) in values.iter().enumerate() {
        if v.value.is_empty() {
            cx.error_at(
                v.value_span,
                "empty label value: Prometheus treats \"\" as an absent label; name the value, \
                 or use `Option<Domain>` for a label that may be absent",
            );
        }
        if let Some(first) = values[..i].iter().find(|p| p.value == v.value) {
            cx.error_at(
                v.value_span,
                format!(
                    "duplicate label value \"{}\" (also used by `{}`): each value names one series",
                    v.value, first.variant
                ),
            );
        }
    }
}

/// The `LabelValue` impl of a closed domain. `define` also emits the enum itself (inline lists).
pub(crate) fn closed_impl(
    ident: &syn::Ident,
    doc: &str,
    values: &[ClosedValue],
    define: bool,
) -> TokenStream {
    let name = ident.to_string();
    let n = values.len();
    let variants: Vec<_> = values.iter().map(|v| &v.variant).collect();
    let strs: Vec<_> = values.iter().map(|v| &v.value).collect();
    let errors: Vec<_> = values
        .iter()
        .filter(|v| v.is_error)
        .map(|v| &v.value)
        .collect();
    let indices = 0..n;
    let definition = define.then(|| {
        let docs = values
            .iter()
            .map(|v| format!("The label value `{}`.", v.value));
        quote! {
            #[doc = #doc]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub enum #ident { #( #[doc = #docs] #variants, )* }
        }
    });
    quote! {
        #definition
        impl ::only1mcp_obs::LabelValue for #ident {
            const DOMAIN: &'static ::only1mcp_obs::DomainDesc = &::only1mcp_obs::DomainDesc {
                name: #name,
                doc: #doc,
                kind: ::only1mcp_obs::DomainKind::Closed {
                    values: &[#(#strs),*],
                    error_values: &[#(#errors),*],
                },
            };
            const CARDINALITY: usize = #n;
            #[inline]
            fn index(self) -> usize {
                match self { #( Self::#variants => #indices, )* }
            }
            #[inline]
            fn as_str(self) -> &'static str {
                match self { #( Self::#variants => #strs, )* }
            }
        }
        impl #ident {
            /// Every value of this domain, in declaration order.
            pub const ALL: [Self; #n] = [#(Self::#variants),*];
        }
    }
}
