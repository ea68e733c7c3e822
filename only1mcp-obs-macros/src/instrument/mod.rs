//! `#[mcp_instrumented]`: parse -> validate (into the model) -> expand.

mod expand;
mod model;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = match parse::parse(args) {
        Ok(args) => args,
        // Keep the user's item so the IDE and other diagnostics keep working.
        Err(e) => return with_error(item, e),
    };
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => return with_error(item, e),
    };
    match validate::validate(&args, parsed) {
        Ok(model) => expand::expand(model),
        Err(e) => with_error(item, e),
    }
}

/// The item unchanged, and the errors.
fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}
