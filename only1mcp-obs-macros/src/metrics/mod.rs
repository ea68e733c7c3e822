//! `metrics!`: parse -> validate -> expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let parsed: parse::Input = match syn::parse2(input) {
        Ok(parsed) => parsed,
        Err(e) => return e.into_compile_error(),
    };
    match validate::check(&parsed) {
        Ok(()) => expand::expand(&parsed),
        Err(e) => e.into_compile_error(),
    }
}
