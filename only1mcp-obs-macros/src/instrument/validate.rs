//! Rules of `#[mcp_instrumented]`, each a small function, applied while the options and the
//! item are lowered into the [model](super::model).

use super::model::{
    Body, Call, Field, FieldValue, Level, Member, Method, Model, Options, SpanKind, Target,
};
use super::parse::{self, Args, FieldName};
use crate::ctxt::{Ctxt, Reported};
use crate::methods;
use crate::text::nearest;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn validate(args: &Args, item: syn::Item) -> syn::Result<Model> {
    let mut cx = Ctxt::new();
    let options = options(&mut cx, args);
    let target = target(&mut cx, args, item);
    cx.finish(options.and_then(|options| target.map(|target| Model { options, target })))
}

fn options(cx: &mut Ctxt, args: &Args) -> Result<Options, Reported> {
    let kind = kind(cx, args);
    let level = level(cx, args);
    let fields = fields(cx, args);
    Ok(Options {
        target: args.target.clone(),
        kind: kind?,
        level: level?,
        server_id: args.server_id.clone(),
        parent: args.parent.clone(),
        fields: fields?,
        spreads: args.spreads.clone(),
    })
}

/// Rule: `kind` is `client` (a call to a backend) or `server` (a call received, the default).
fn kind(cx: &mut Ctxt, args: &Args) -> Result<SpanKind, Reported> {
    match args.kind.as_ref() {
        None => Ok(SpanKind::Server),
        Some(word) => match word.text.as_str() {
            "client" => Ok(SpanKind::Client),
            "server" => Ok(SpanKind::Server),
            other => Err(cx.error_at(
                word.span,
                format!("unknown kind `{other}`: use `client` for calls to a backend or `server` for calls received"),
            )),
        },
    }
}

/// Rule: `level` is a tracing level (`info` by default).
fn level(cx: &mut Ctxt, args: &Args) -> Result<Level, Reported> {
    let Some(word) = args.level.as_ref() else {
        return Ok(Level::Info);
    };
    match Level::ALL.into_iter().find(|l| l.as_str() == word.text) {
        Some(level) => Ok(level),
        None => Err(cx.error_at(
            word.span,
            format!(
                "unknown level `{}`: use one of trace, debug, info, warn, error",
                word.text
            ),
        )),
    }
}

/// Rule: fields are named once; a quoted name needs a value (it cannot name an argument).
fn fields(cx: &mut Ctxt, args: &Args) -> Result<Vec<Field>, Reported> {
    let raw = args.fields.as_deref().unwrap_or_default();
    let lowered: Vec<Result<Field, Reported>> = raw
        .iter()
        .enumerate()
        .map(|(i, field)| self::field(cx, field, &raw[..i]))
        .collect();
    lowered.into_iter().collect()
}

fn field(cx: &mut Ctxt, field: &parse::Field, before: &[parse::Field]) -> Result<Field, Reported> {
    let key = field.name.text();
    let unique = if before.iter().any(|f| f.name.text() == key) {
        Err(cx.error_at(field.name.span(), format!("field `{key}` is named twice")))
    } else {
        Ok(())
    };
    let value = match (&field.name, &field.value) {
        (_, Some(expr)) => Ok(FieldValue::Expr(expr.clone())),
        (FieldName::Ident(ident), None) => Ok(FieldValue::Argument(ident.clone())),
        (FieldName::Lit(lit), None) => Err(cx.error_spanned(
            lit,
            format!("a quoted field name needs a value: `\"{key}\" = expr` (arguments are named without quotes)"),
        )),
    };
    unique?;
    Ok(Field {
        span: field.name.span(),
        key,
        value: value?,
        format: field.format,
    })
}

fn target(cx: &mut Ctxt, args: &Args, item: syn::Item) -> Result<Target, Reported> {
    match item {
        syn::Item::Fn(f) => function(cx, args, f),
        syn::Item::Impl(i) => impl_block(cx, args, i),
        other => Err(cx.error_spanned(
            item_head(&other),
            "#[mcp_instrumented] goes on a function, a method, or an impl block",
        )),
    }
}

/// Rule: `skip` only opts a method out of an instrumented impl block.
fn function(cx: &mut Ctxt, args: &Args, f: syn::ItemFn) -> Result<Target, Reported> {
    let skip = match args.skip {
        Some(span) => Err(cx.error_at(span, "`skip` opts a method out of an instrumented impl block; on its own, remove the attribute instead")),
        None => Ok(()),
    };
    let call = call(cx, args, &f.sig, &f.block);
    skip?;
    Ok(Target::Fn {
        call: call?,
        item: Box::new(f),
    })
}

/// Every method of the impl block is instrumented, except those with `#[mcp_instrumented(skip)]`
/// and those with their own `#[mcp_instrumented(..)]` (which expand on their own, and report
/// their own errors).
fn impl_block(cx: &mut Ctxt, args: &Args, imp: syn::ItemImpl) -> Result<Target, Reported> {
    let skip = match args.skip {
        Some(span) => Err(cx.error_at(
            span,
            "`skip` goes on a method inside an instrumented impl block, not on the block",
        )),
        None => Ok(()),
    };
    let members: Vec<Result<Member, Reported>> = imp
        .items
        .iter()
        .map(|item| member(cx, args, item))
        .collect();
    skip?;
    Ok(Target::Impl {
        members: members.into_iter().collect::<Result<_, _>>()?,
        item: imp,
    })
}

fn member(cx: &mut Ctxt, args: &Args, item: &syn::ImplItem) -> Result<Member, Reported> {
    let syn::ImplItem::Fn(f) = item else {
        return Ok(Member::Keep);
    };
    match f.attrs.iter().position(is_ours) {
        Some(position) => Ok(match parse::parse_attr(&f.attrs[position]) {
            Ok(own) if own.is_skip_only() => Member::Unmark(position),
            _ => Member::Keep,
        }),
        None => call(cx, args, &f.sig, &f.block).map(|call| Member::Instrument(Box::new(call))),
    }
}

fn is_ours(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "mcp_instrumented")
}

/// The rules on one function, and its call.
fn call(
    cx: &mut Ctxt,
    args: &Args,
    sig: &syn::Signature,
    block: &syn::Block,
) -> Result<Call, Reported> {
    let not_const = check_not_const(cx, sig);
    let arguments = check_arguments(cx, args, sig);
    let method = method(cx, args, sig);
    not_const?;
    arguments?;
    Ok(Call {
        method: method?,
        body: body(sig, block),
        output: nameable_output(&sig.output),
    })
}

/// Rule: a `const fn` cannot be instrumented (it would have to read the clock at compile time).
fn check_not_const(cx: &mut Ctxt, sig: &syn::Signature) -> Result<(), Reported> {
    match &sig.constness {
        Some(c) => Err(cx.error_spanned(c, "#[mcp_instrumented] cannot instrument a `const fn`: a call measured at compile time means nothing; remove `const` or the attribute")),
        None => Ok(()),
    }
}

/// Rule: a field without a value names an argument of the function; arguments are never
/// recorded unless named (tool arguments carry secrets).
fn check_arguments(cx: &mut Ctxt, args: &Args, sig: &syn::Signature) -> Result<(), Reported> {
    let params = argument_names(sig);
    let mark = cx.mark();
    for field in args.fields.iter().flatten() {
        let (FieldName::Ident(ident), None) = (&field.name, &field.value) else {
            continue;
        };
        let name = ident.to_string();
        if params.contains(&name) {
            continue;
        }
        let candidates: Vec<&str> = params.iter().map(String::as_str).collect();
        let hint = nearest(&name, &candidates)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        cx.error_spanned(
            ident,
            format!("field `{name}` names no argument of `{}`: name an argument, or give a value with `{name} = expr`{hint}", sig.ident),
        );
    }
    cx.since(mark)
}

fn argument_names(sig: &syn::Signature) -> Vec<String> {
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
fn method(cx: &mut Ctxt, args: &Args, sig: &syn::Signature) -> Result<Method, Reported> {
    match &args.method {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        })) => literal_method(cx, lit),
        Some(expr) => Ok(Method::Expr(expr.clone())),
        None => match methods::infer_from_fn(&sig.ident.to_string()) {
            Some((name, variant)) => Ok(Method::Literal {
                name: name.to_owned(),
                variant: syn::Ident::new(variant, sig.ident.span()),
            }),
            None => Err(cx.error_spanned(
                &sig.ident,
                format!(
                    "cannot tell the MCP method of `{}`: add `method = \"tools/call\"` (or another MCP method), \
                     or name the function after an rmcp handler such as `call_tool`",
                    sig.ident
                ),
            )),
        },
    }
}

fn literal_method(cx: &mut Ctxt, lit: &syn::LitStr) -> Result<Method, Reported> {
    let name = lit.value();
    match methods::variant_of(&name) {
        Some(variant) => Ok(Method::Literal {
            variant: syn::Ident::new(variant, lit.span()),
            name,
        }),
        None => {
            let hint = nearest(&name, &methods::names())
                .map(|n| format!("; did you mean \"{n}\"?"))
                .unwrap_or_else(|| {
                    "; for a method known only at run time, pass an expression".to_owned()
                });
            Err(cx.error_spanned(lit, format!("\"{name}\" is not an MCP method{hint}")))
        }
    }
}

/// The shape of the body: `async fn`, `#[async_trait]`'s boxed future, or anything else.
fn body(sig: &syn::Signature, block: &syn::Block) -> Body {
    if sig.asyncness.is_some() {
        Body::Async
    } else if let Some(future) = async_trait_future(block) {
        Body::AsyncTrait(future.clone())
    } else {
        Body::Sync
    }
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

/// The return type, unless it has an `impl Trait` (which cannot be written again elsewhere).
fn nameable_output(output: &syn::ReturnType) -> Option<Box<syn::Type>> {
    match output {
        syn::ReturnType::Type(_, ty) if !quote!(#ty).to_string().contains("impl ") => {
            Some(ty.clone())
        }
        _ => None,
    }
}

/// The tokens an "unsupported item" error points at: the item's keyword and name.
fn item_head(item: &syn::Item) -> TokenStream {
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
