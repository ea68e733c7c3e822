//! `#[mcp_instrumented]`: parse -> validate -> expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let args: parse::Args = match syn::parse2(args) {
        Ok(args) => args,
        // Keep the user's item so the IDE and other diagnostics keep working.
        Err(e) => return with_error(item, e),
    };
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => return with_error(item, e),
    };
    let result = match parsed {
        syn::Item::Fn(f) => {
            validate::check_fn(&args, &f.sig, false).map(|m| expand::item_fn(&args, f, m))
        }
        syn::Item::Impl(i) => expand::item_impl(&args, i),
        other => Err(syn::Error::new_spanned(
            validate::item_head(&other),
            "#[mcp_instrumented] goes on a function, a method, or an impl block",
        )),
    };
    result.unwrap_or_else(|e| with_error(item, e))
}

fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}
