//! Code generation for `#[mcp_instrumented]` (quote only).

use super::parse::{Args, Format};
use super::validate::{Method, check_fn};
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn item_fn(args: &Args, f: syn::ItemFn, method: Method) -> TokenStream {
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let body = body(args, &sig, &block, method);
    quote!(#(#attrs)* #vis #sig #body)
}

/// Every method of the impl block, except those with `#[mcp_instrumented(skip)]` and those with
/// their own `#[mcp_instrumented(..)]` (which expand on their own).
pub(crate) fn item_impl(args: &Args, mut imp: syn::ItemImpl) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    if let Some(span) = args.skip {
        cx.error_at(
            span,
            "`skip` goes on a method inside an instrumented impl block, not on the block",
        );
    }
    for item in &mut imp.items {
        let syn::ImplItem::Fn(f) = item else { continue };
        if let Some(position) = f.attrs.iter().position(is_ours) {
            let own = match &f.attrs[position].meta {
                syn::Meta::Path(_) => Args::default(),
                _ => match f.attrs[position].parse_args::<Args>() {
                    Ok(own) => own,
                    Err(e) => {
                        cx.push(e);
                        continue;
                    }
                },
            };
            if own.is_skip_only() {
                f.attrs.remove(position);
            }
            continue;
        }
        match check_fn(args, &f.sig, true) {
            Ok(method) => match syn::parse2(body(args, &f.sig, &f.block, method)) {
                Ok(block) => f.block = block,
                Err(e) => cx.push(e),
            },
            Err(e) => cx.push(e),
        }
    }
    cx.check()?;
    Ok(quote!(#imp))
}

fn is_ours(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "mcp_instrumented")
}

/// The instrumented body: sync, `async fn`, or the `Box::pin(async move { .. })` that
/// `#[async_trait]` leaves when it expands first.
fn body(args: &Args, sig: &syn::Signature, block: &syn::Block, method: Method) -> TokenStream {
    let start = start_call(args, sig, method);
    let span = block.span();
    if sig.asyncness.is_some() {
        let hint = return_hint(&sig.output);
        let future = quote_spanned!(span=> async move { #hint #block });
        return quote!({ #start ::only1mcp_obs::__obs_await_call!(__obs_call, #future) });
    }
    if let Some(inner) = async_trait_future(block) {
        let awaited = quote!(::only1mcp_obs::__obs_await_call!(__obs_call, #inner));
        return quote!({ ::std::boxed::Box::pin(async move { #start #awaited }) });
    }
    let ret = match &sig.output {
        syn::ReturnType::Type(_, ty) if !contains_impl(ty) => quote!(-> #ty),
        _ => quote!(),
    };
    quote_spanned! {span=>
        {
            #start
            let __obs_guard = __obs_call.attach();
            #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
            let __obs_result = (move || #ret #block)();
            ::core::mem::drop(__obs_guard);
            __obs_call.finish(::only1mcp_obs::__obs_classify!(&__obs_result));
            __obs_result
        }
    }
}

/// Pins an `async` block's output to the function's return type, so `?` conversions infer and
/// type errors point at the user's code.
fn return_hint(output: &syn::ReturnType) -> TokenStream {
    match output {
        syn::ReturnType::Type(_, ty) if !contains_impl(ty) => quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::needless_return)]
            if false {
                let __obs_fake_return: #ty = loop {};
                return __obs_fake_return;
            }
        },
        _ => quote!(),
    }
}

fn contains_impl(ty: &syn::Type) -> bool {
    quote!(#ty).to_string().contains("impl ")
}

/// The `async move { .. }` inside `Box::pin(..)`, the shape `#[async_trait]` produces.
fn async_trait_future(block: &syn::Block) -> Option<&syn::ExprAsync> {
    let [syn::Stmt::Expr(syn::Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let syn::Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first() {
        Some(syn::Expr::Async(inner)) => Some(inner),
        _ => None,
    }
}

/// The call-site descriptor (registered at link time) and `Call::start`.
fn start_call(args: &Args, sig: &syn::Signature, method: Method) -> TokenStream {
    let function = sig.ident.to_string();
    let (method_name, method_value) = match &method {
        Method::Literal(name, variant) => (
            quote!(::core::option::Option::Some(#name)),
            quote!(::only1mcp_obs::catalogue::McpMethod::#variant),
        ),
        Method::Expr(expr) => (
            quote!(::core::option::Option::None),
            quote!(::only1mcp_obs::__private::IntoMcpMethod::mcp_method(&(#expr))),
        ),
    };
    let kind = match args.kind.as_ref().map(|k| k.to_string()).as_deref() {
        Some("client") => quote!(Client),
        _ => quote!(Server),
    };
    let level = match args.level.as_ref().map(|l| l.to_string()).as_deref() {
        Some("trace") => quote!(Trace),
        Some("debug") => quote!(Debug),
        Some("warn") => quote!(Warn),
        Some("error") => quote!(Error),
        _ => quote!(Info),
    };
    let fields = args.fields.as_deref().unwrap_or_default();
    let field_names: Vec<String> = fields.iter().map(|f| f.name.text()).collect();
    // Each `record` call sits on the field's own tokens, so a type error points at the field.
    let records = fields.iter().map(|f| {
        let key = f.name.text();
        let value = match &f.value {
            Some(expr) => quote!(&(#expr)),
            None => {
                let name = &f.name;
                quote!(&#name)
            }
        };
        // On the field's own tokens, so that an unsatisfied bound points at the field.
        let record = syn::Ident::new(
            match f.format {
                Format::Value => "record",
                Format::Display => "record_display",
                Format::Debug => "record_debug",
            },
            f.name.span(),
        );
        quote_spanned!(f.name.span()=> __obs_fields.#record(#key, #value);)
    });
    let optional = |expr: &Option<syn::Expr>, f: TokenStream| match expr {
        Some(e) => quote!(::only1mcp_obs::__private::#f(&(#e))),
        None => quote!(::core::option::Option::None),
    };
    let target = optional(&args.target, quote!(label_str));
    let server = optional(&args.server_id, quote!(label_str));
    let parent = optional(&args.parent, quote!(parent_context));
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
        #[allow(unused_mut)]
        let mut __obs_call = ::only1mcp_obs::__private::Call::start(
            &__OBS_SITE,
            #method_value,
            #target,
            #server,
            #parent,
            |__obs_fields: &mut ::only1mcp_obs::__private::Fields<'_>| {
                #(#records)*
            },
        );
    }
}
