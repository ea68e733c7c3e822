//! Procedural macros of `only1mcp-obs`.
//!
//! Use them through the runtime crate, which re-exports them and hosts their documentation:
//! `only1mcp_obs::metrics!` and `#[derive(only1mcp_obs::LabelValue)]`. Generated code refers to
//! `::only1mcp_obs::__private`, so this crate is not meant to be used on its own.

mod ctxt;
mod label;
mod metrics;

use proc_macro::TokenStream;

/// Declares metric families. See `only1mcp_obs::metrics!` for the documentation.
#[proc_macro]
pub fn metrics(input: TokenStream) -> TokenStream {
    metrics::expand(input.into()).into()
}

/// Derives `only1mcp_obs::LabelValue` for a fieldless enum: a closed label domain.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    label::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
