//! Procedural macros of `only1mcp-obs`.
//!
//! Use them through the runtime crate, which re-exports them and hosts their documentation:
//! `only1mcp_obs::metrics!` and `#[derive(only1mcp_obs::LabelValue)]`. Generated code refers to
//! `::only1mcp_obs::__private`, so this crate is not meant to be used on its own.
//!
//! Each macro runs in three steps, each in its own module: parse the tokens into a syntax tree
//! that keeps the user's spans; validate it into a model of typed, settled values (or report
//! every error at once, with stand-ins that keep the rest of the crate quiet); expand the model
//! into code.

mod ctxt;
mod instrument;
mod label;
mod methods;
mod metrics;
mod syntax;
mod text;

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
    label::derive(&input).into()
}

/// Instruments an MCP handler or client call. See `only1mcp_obs::mcp_instrumented`.
#[proc_macro_attribute]
pub fn mcp_instrumented(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument::expand(args.into(), item.into()).into()
}

/// Generates the `McpMethod` label domain from the list `#[mcp_instrumented]` checks against.
#[doc(hidden)]
#[proc_macro]
pub fn __mcp_method_enum(_: TokenStream) -> TokenStream {
    methods::enum_tokens().into()
}
