//! `metrics!`: parse -> validate (into the model) -> expand.
//!
//! - [`parse`]: the syntax, kept with the user's spans; recovers from errors item by item.
//! - [`validate`]: the rules; lowers the syntax into the [`model`] or returns every error with
//!   the fallback of what the invocation still declares.
//! - [`expand`](mod@expand): the code, from the model (or the fallback) only.

mod expand;
mod model;
mod parse;
mod validate;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;

pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    let input = parse::parse(&mut cx, tokens);
    match validate::validate(cx, &input) {
        Ok(model) => expand::model(&model),
        Err(invalid) => expand::fallback(&invalid),
    }
}
