//! Code generation for `metrics!`, from the model only: every rule was checked, every value
//! settled, before anything here runs.

mod dynamic;
mod family;
mod stub;

use super::model::{Item, Kind, Model};
use super::validate::Invalid;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The items of a valid invocation.
pub(crate) fn model(model: &Model) -> TokenStream {
    model
        .items
        .iter()
        .map(|item| match item {
            Item::Family(f) => family::family(f),
            Item::Dynamic(d) => dynamic::dynamic(d),
        })
        .collect()
}

/// The errors of an invalid invocation, and stand-ins for what it declares.
pub(crate) fn fallback(invalid: &Invalid) -> TokenStream {
    let error = invalid.error.to_compile_error();
    let stubs = invalid.fallback.items.iter().map(stub::stub);
    quote! {
        #error
        #(#stubs)*
    }
}

/// The runtime's series type of a kind, also the name of its `MetricKind` variant.
fn series_type(kind: Kind) -> syn::Ident {
    format_ident!("{}", kind.type_name())
}
