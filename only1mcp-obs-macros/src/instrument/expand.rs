//! Code generation for `#[mcp_instrumented]`, from the model only.

use super::model::{Body, Call, Field, FieldValue, Member, Method, Model, Options, Target};
use super::parse::Format;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(model: Model) -> TokenStream {
    let Model { options, target } = model;
    match target {
        Target::Fn { item, call } => function(&options, *item, &call),
        Target::Impl { item, members } => impl_block(&options, item, members),
    }
}

fn function(options: &Options, f: syn::ItemFn, call: &Call) -> TokenStream {
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let body = body(options, &sig, &block, call);
    quote!(#(#attrs)* #vis #sig #body)
}

fn impl_block(options: &Options, mut imp: syn::ItemImpl, members: Vec<Member>) -> TokenStream {
    for (item, member) in imp.items.iter_mut().zip(members) {
        let syn::ImplItem::Fn(f) = item else {
            continue;
        };
        match member {
            Member::Instrument(call) => f.block = body(options, &f.sig, &f.block, &call),
            Member::Unmark(position) => {
                f.attrs.remove(position);
            }
            Member::Keep => {}
        }
    }
    quote!(#imp)
}

/// The instrumented body: the call starts, the original body runs (awaited when async), and the
/// call finishes with the outcome classified from the result.
fn body(options: &Options, sig: &syn::Signature, block: &syn::Block, call: &Call) -> syn::Block {
    let start = start_call(options, sig, &call.method);
    let span = block.span();
    match &call.body {
        Body::Async => {
            let hint = return_hint(call.output.as_deref());
            let future = quote_spanned!(span=> async move { #hint #block });
            braced(
                Span::call_site(),
                quote!(#start ::only1mcp_obs::__obs_await_call!(__obs_call, #future)),
            )
        }
        Body::AsyncTrait(inner) => {
            let awaited = quote!(::only1mcp_obs::__obs_await_call!(__obs_call, #inner));
            braced(
                Span::call_site(),
                quote!(::std::boxed::Box::pin(async move { #start #awaited })),
            )
        }
        Body::Sync => braced(span, sync_body(start, block, call.output.as_deref(), span)),
    }
}

/// A block of the given tokens, its braces at `span`.
fn braced(span: Span, tokens: TokenStream) -> syn::Block {
    syn::Block {
        brace_token: syn::token::Brace(span),
        stmts: vec![syn::Stmt::Expr(syn::Expr::Verbatim(tokens), None)],
    }
}

/// The body run in a closure between the call's start and finish.
fn sync_body(
    start: TokenStream,
    block: &syn::Block,
    output: Option<&syn::Type>,
    span: Span,
) -> TokenStream {
    let ret = output.map(|ty| quote!(-> #ty));
    quote_spanned! {span=>
        #start
        let __obs_guard = __obs_call.attach();
        #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
        let __obs_result = (move || #ret #block)();
        ::core::mem::drop(__obs_guard);
        __obs_call.finish(::only1mcp_obs::__obs_classify!(&__obs_result));
        __obs_result
    }
}

/// Pins an `async` block's output to the function's return type, so `?` conversions infer and
/// type errors point at the user's code.
fn return_hint(output: Option<&syn::Type>) -> TokenStream {
    match output {
        Some(ty) => quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::needless_return)]
            if false {
                let __obs_fake_return: #ty = loop {};
                return __obs_fake_return;
            }
        },
        None => quote!(),
    }
}

/// The call-site descriptor (registered at link time) and `Call::start`.
fn start_call(options: &Options, sig: &syn::Signature, method: &Method) -> TokenStream {
    let site = call_site(options, sig, method);
    let method_value = match method {
        Method::Literal { variant, .. } => {
            quote!(::only1mcp_obs::catalogue::McpMethod::#variant)
        }
        Method::Expr(expr) => {
            quote!(::only1mcp_obs::__private::IntoMcpMethod::mcp_method(&(#expr)))
        }
    };
    let records = options.fields.iter().map(record);
    let spreads = options.spreads.iter().map(spread);
    let target = optional(&options.target, "label_str");
    let server = optional(&options.server_id, "label_str");
    let parent = optional(&options.parent, "parent_context");
    quote! {
        #site
        #[allow(unused_mut)]
        let mut __obs_call = ::only1mcp_obs::__private::Call::start(
            &__OBS_SITE,
            #method_value,
            #target,
            #server,
            #parent,
            |__obs_fields: &mut ::only1mcp_obs::__private::Fields<'_>| {
                #(#records)*
                #(#spreads)*
            },
        );
    }
}

/// The static describing the call site, and its entry in the link-time list.
fn call_site(options: &Options, sig: &syn::Signature, method: &Method) -> TokenStream {
    let function = sig.ident.to_string();
    let method_name = match method {
        Method::Literal { name, .. } => quote!(::core::option::Option::Some(#name)),
        Method::Expr(_) => quote!(::core::option::Option::None),
    };
    let kind = syn::Ident::new(options.kind.variant(), Span::call_site());
    let level = syn::Ident::new(options.level.variant(), Span::call_site());
    let field_names = options.fields.iter().map(|f| &f.key);
    quote! {
        static __OBS_SITE: ::only1mcp_obs::__private::CallSite = ::only1mcp_obs::__private::CallSite {
            function: #function,
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
            method: #method_name,
            kind: ::only1mcp_obs::__private::CallKind::#kind,
            level: ::only1mcp_obs::__private::CallLevel::#level,
            fields: &[#(#field_names),*],
            cache: ::only1mcp_obs::__private::SiteCache::new(),
        };
        #[::only1mcp_obs::__private::linkme::distributed_slice(::only1mcp_obs::__private::CALL_SITES)]
        #[linkme(crate = ::only1mcp_obs::__private::linkme)]
        #[allow(unsafe_code)]
        static __OBS_SITE_REGISTERED: &::only1mcp_obs::__private::CallSite = &__OBS_SITE;
    }
}

/// One field's `record` call, on the field's own tokens so that an unsatisfied bound points at
/// the field.
fn record(field: &Field) -> TokenStream {
    let key = &field.key;
    let value = match &field.value {
        FieldValue::Argument(ident) => quote!(&#ident),
        FieldValue::Expr(expr) => quote!(&(#expr)),
    };
    let record = syn::Ident::new(
        match field.format {
            Format::Value => "record",
            Format::Display => "record_display",
            Format::Debug => "record_debug",
        },
        field.span,
    );
    quote_spanned!(field.span=> __obs_fields.#record(#key, #value);)
}

/// A `..value` entry's `record_fields` call, on the value's tokens so that an unsatisfied
/// `SpanFields` bound points at it.
fn spread(value: &syn::Expr) -> TokenStream {
    quote_spanned!(value.span()=>
        ::only1mcp_obs::trace::SpanFields::record_fields(&(#value), __obs_fields);
    )
}

/// `__private::f(&(expr))` for an option given, else `None`.
fn optional(expr: &Option<syn::Expr>, f: &str) -> TokenStream {
    let f = syn::Ident::new(f, Span::call_site());
    match expr {
        Some(e) => quote!(::only1mcp_obs::__private::#f(&(#e))),
        None => quote!(::core::option::Option::None),
    }
}
