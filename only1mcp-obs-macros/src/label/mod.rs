//! `#[derive(LabelValue)]`: parse (syn's `DeriveInput`) -> validate (into a [`ClosedDomain`]) ->
//! expand; and the code of closed domains, shared with `metrics!` inline lists and `McpMethod`.

mod expand;
mod validate;

pub(crate) use expand::{closed_impl, label_value_stub};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// A closed label domain: a fieldless enum and the label value of each variant.
pub(crate) struct ClosedDomain {
    pub(crate) ident: syn::Ident,
    /// The enum's doc comments as one line.
    pub(crate) doc: String,
    pub(crate) values: Vec<ClosedValue>,
}

/// One value of a closed domain.
pub(crate) struct ClosedValue {
    pub(crate) variant: syn::Ident,
    pub(crate) value: String,
    /// Where the value is written (`#[label(value = "..")]`), else the variant.
    pub(crate) value_span: Span,
    /// Marked `#[label(error)]`: the value is a failed outcome.
    pub(crate) is_error: bool,
}

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    match validate::validate(input) {
        Ok(domain) => expand::derive(&domain),
        Err(error) => {
            let error = error.into_compile_error();
            // The impl the derive would have made, so that uses of the type stay quiet; a
            // generic type gets none (its impl would need bounds only a valid input settles).
            let stub = input
                .generics
                .params
                .is_empty()
                .then(|| expand::derive_stub(&input.ident));
            quote!(#error #stub)
        }
    }
}
