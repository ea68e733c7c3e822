//! Rules of `#[mcp_instrumented]`, each a small `check_*` function.

use super::parse::{Args, FieldName};
use crate::ctxt::{Ctxt, nearest};
use crate::methods;
use proc_macro2::TokenStream;
use quote::quote;

/// How the MCP method of a call is known.
pub(crate) enum Method {
    /// A literal checked at compile time: (method, `McpMethod` variant).
    Literal(String, syn::Ident),
    /// An expression evaluated per call.
    Expr(syn::Expr),
}

/// Checks the options against one function and settles its method. `in_impl` is set for methods
/// of an instrumented impl block (they infer the method from their name).
pub(crate) fn check_fn(args: &Args, sig: &syn::Signature, in_impl: bool) -> syn::Result<Method> {
    let mut cx = Ctxt::default();
    check_not_const(&mut cx, sig);
    check_skip(&mut cx, args, in_impl);
    check_kind(&mut cx, args);
    check_level(&mut cx, args);
    check_fields(&mut cx, args, sig);
    let method = settle_method(&mut cx, args, sig);
    cx.check()?;
    method.ok_or_else(|| syn::Error::new_spanned(&sig.ident, "no method"))
}

/// Rule: a `const fn` cannot be instrumented (it would have to read the clock at compile time).
fn check_not_const(cx: &mut Ctxt, sig: &syn::Signature) {
    if let Some(c) = &sig.constness {
        cx.error_spanned(c, "#[mcp_instrumented] cannot instrument a `const fn`: a call measured at compile time means nothing; remove `const` or the attribute");
    }
}

/// Rule: `skip` only opts a method out of an instrumented impl block.
fn check_skip(cx: &mut Ctxt, args: &Args, in_impl: bool) {
    if let (Some(span), false) = (args.skip, in_impl) {
        cx.error_at(span, "`skip` opts a method out of an instrumented impl block; on its own, remove the attribute instead");
    }
}

/// Rule: `kind` is `client` (a call to a backend) or `server` (a call received).
fn check_kind(cx: &mut Ctxt, args: &Args) {
    if let Some(kind) = &args.kind
        && kind != "client"
        && kind != "server"
    {
        cx.error_spanned(kind, format!("unknown kind `{kind}`: use `client` for calls to a backend or `server` for calls received"));
    }
}

/// Rule: `level` is a tracing level.
fn check_level(cx: &mut Ctxt, args: &Args) {
    const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];
    if let Some(level) = &args.level
        && !LEVELS.contains(&level.to_string().as_str())
    {
        cx.error_spanned(
            level,
            format!("unknown level `{level}`: use one of trace, debug, info, warn, error"),
        );
    }
}

/// Rule: a field without a value names an argument of the function; arguments are never
/// recorded unless named (tool arguments carry secrets).
fn check_fields(cx: &mut Ctxt, args: &Args, sig: &syn::Signature) {
    let params: Vec<String> = arg_names(sig);
    let mut seen: Vec<String> = Vec::new();
    for field in args.fields.iter().flatten() {
        let name = field.name.text();
        if seen.contains(&name) {
            cx.error_spanned(&field.name, format!("field `{name}` is named twice"));
        }
        seen.push(name.clone());
        match (&field.name, &field.value) {
            (FieldName::Lit(lit), None) => cx.error_spanned(
                lit,
                format!("a quoted field name needs a value: `\"{name}\" = expr` (arguments are named without quotes)"),
            ),
            (FieldName::Ident(ident), None) if !params.contains(&name) => {
                let candidates: Vec<&str> = params.iter().map(String::as_str).collect();
                let hint = nearest(&name, &candidates).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                cx.error_spanned(
                    ident,
                    format!("field `{name}` names no argument of `{}`: name an argument, or give a value with `{name} = expr`{hint}", sig.ident),
                );
            }
            _ => {}
        }
    }
}

fn arg_names(sig: &syn::Signature) -> Vec<String> {
    sig.inputs
        .iter()
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Rule: a literal method is an MCP method; without `method`, it is inferred from the function's
/// name (`call_tool` -> `tools/call`, as in rmcp's handler traits).
fn settle_method(cx: &mut Ctxt, args: &Args, sig: &syn::Signature) -> Option<Method> {
    match &args.method {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        })) => {
            let value = lit.value();
            match methods::variant_of(&value) {
                Some(variant) => Some(Method::Literal(value, syn::Ident::new(variant, lit.span()))),
                None => {
                    let hint = nearest(&value, &methods::names())
                        .map(|n| format!("; did you mean \"{n}\"?"))
                        .unwrap_or_else(|| {
                            "; for a method known only at run time, pass an expression".to_owned()
                        });
                    cx.error_spanned(lit, format!("\"{value}\" is not an MCP method{hint}"));
                    None
                }
            }
        }
        Some(expr) => Some(Method::Expr(expr.clone())),
        None => match methods::infer_from_fn(&sig.ident.to_string()) {
            Some(m) => {
                let variant = methods::variant_of(m).unwrap_or("Other");
                Some(Method::Literal(
                    m.to_owned(),
                    syn::Ident::new(variant, sig.ident.span()),
                ))
            }
            None => {
                cx.error_spanned(
                    &sig.ident,
                    format!(
                        "cannot tell the MCP method of `{}`: add `method = \"tools/call\"` (or another MCP method), \
                         or name the function after an rmcp handler such as `call_tool`",
                        sig.ident
                    ),
                );
                None
            }
        },
    }
}

/// The tokens an "unsupported item" error points at: the item's keyword and name.
pub(crate) fn item_head(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(s) => {
            let (k, i) = (&s.struct_token, &s.ident);
            quote!(#k #i)
        }
        syn::Item::Enum(e) => {
            let (k, i) = (&e.enum_token, &e.ident);
            quote!(#k #i)
        }
        syn::Item::Const(c) => {
            let (k, i) = (&c.const_token, &c.ident);
            quote!(#k #i)
        }
        syn::Item::Static(s) => {
            let (k, i) = (&s.static_token, &s.ident);
            quote!(#k #i)
        }
        syn::Item::Mod(m) => {
            let (k, i) = (&m.mod_token, &m.ident);
            quote!(#k #i)
        }
        syn::Item::Trait(t) => {
            let (k, i) = (&t.trait_token, &t.ident);
            quote!(#k #i)
        }
        other => quote!(#other),
    }
}
