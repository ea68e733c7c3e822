//! The options of `#[mcp_instrumented(...)]` as written.
//!
//! Parsing recovers at each comma, so that one compile reports every bad option.

use crate::ctxt::{Ctxt, Reported};
use crate::syntax::{comma_list, in_parens, set_once, unknown_option};
use proc_macro2::{Span, TokenStream};
use syn::Token;
use syn::parse::{Parse, ParseStream, Parser};

mod kw {
    syn::custom_keyword!(method);
    syn::custom_keyword!(target);
    syn::custom_keyword!(kind);
    syn::custom_keyword!(server_id);
    syn::custom_keyword!(fields);
    syn::custom_keyword!(level);
    syn::custom_keyword!(parent);
    syn::custom_keyword!(skip);
}

const OPTIONS: &[&str] = &[
    "method",
    "target",
    "kind",
    "server_id",
    "fields",
    "level",
    "parent",
    "skip",
];

#[derive(Default)]
pub(crate) struct Args {
    pub(crate) method: Option<syn::Expr>,
    pub(crate) target: Option<syn::Expr>,
    pub(crate) kind: Option<Word>,
    pub(crate) server_id: Option<syn::Expr>,
    pub(crate) fields: Option<Vec<Field>>,
    /// `..value` entries of `fields(..)`: every attribute of a `SpanFields` value.
    pub(crate) spreads: Vec<syn::Expr>,
    pub(crate) level: Option<Word>,
    pub(crate) parent: Option<syn::Expr>,
    pub(crate) skip: Option<Span>,
}

/// A word option's value (`kind = client`, `level = debug` or `level = "debug"`).
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) span: Span,
}

/// `name` (an argument), `name = expr`, or `"dotted.name" = expr` (semantic-convention keys);
/// as in `tracing`, `%` before the argument or the value records it with `Display`, `?` with
/// `Debug`.
pub(crate) struct Field {
    pub(crate) name: FieldName,
    pub(crate) value: Option<syn::Expr>,
    pub(crate) format: Format,
}

/// How a field's value becomes an attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Through `ToAttribute` (strings, numbers, booleans, options of them).
    Value,
    /// `%value`: through `Display`.
    Display,
    /// `?value`: through `Debug`.
    Debug,
}

impl Format {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            Ok(Format::Display)
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            Ok(Format::Debug)
        } else {
            Ok(Format::Value)
        }
    }
}

/// A field's name as written.
pub(crate) enum FieldName {
    Ident(syn::Ident),
    Lit(syn::LitStr),
}

impl FieldName {
    /// The attribute key.
    pub(crate) fn text(&self) -> String {
        match self {
            FieldName::Ident(i) => i.to_string(),
            FieldName::Lit(l) => l.value(),
        }
    }

    pub(crate) fn span(&self) -> Span {
        match self {
            FieldName::Ident(i) => i.span(),
            FieldName::Lit(l) => l.span(),
        }
    }
}

/// An entry of `fields(..)`: a field, or `..value`.
enum Entry {
    Field(Field),
    Spread(syn::Expr),
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![..]) {
            input.parse::<Token![..]>()?;
            return input.parse().map(Entry::Spread);
        }
        input.parse().map(Entry::Field)
    }
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let sigil = input.span();
        let format = Format::parse(input)?;
        let name = if input.peek(syn::LitStr) {
            FieldName::Lit(input.parse()?)
        } else {
            FieldName::Ident(input.parse()?)
        };
        if !input.peek(Token![=]) {
            return Ok(Field {
                name,
                value: None,
                format,
            });
        }
        if format != Format::Value {
            let name = name.text();
            return Err(syn::Error::new(
                sigil,
                format!("`%` and `?` go before the value: `{name} = %value` or `{name} = ?value`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let format = Format::parse(input)?;
        Ok(Field {
            name,
            value: Some(input.parse()?),
            format,
        })
    }
}

/// Parses the attribute's arguments.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Args> {
    parse_args.parse2(tokens)
}

/// Parses the arguments of an attribute found on a method (`#[mcp_instrumented(skip)]`).
pub(crate) fn parse_attr(attr: &syn::Attribute) -> syn::Result<Args> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(Args::default()),
        _ => attr.parse_args_with(parse_args),
    }
}

fn parse_args(input: ParseStream<'_>) -> syn::Result<Args> {
    let mut cx = Ctxt::new();
    let args = args(&mut cx, input);
    cx.finish(args)
}

fn args(cx: &mut Ctxt, input: ParseStream<'_>) -> Result<Args, Reported> {
    let mut args = Args::default();
    let mut damaged = None;
    let parsed = comma_list(cx, input, |cx, input| {
        option(cx, input, &mut args, &mut damaged)
    });
    if let Some(reported) = parsed.into_iter().find_map(Result::err).or(damaged) {
        return Err(reported);
    }
    Ok(args)
}

/// One option. A bad field inside `fields(..)` is recorded and marks the arguments `damaged`.
fn option(
    cx: &mut Ctxt,
    input: ParseStream<'_>,
    args: &mut Args,
    damaged: &mut Option<Reported>,
) -> syn::Result<()> {
    let lookahead = input.lookahead1();
    if lookahead.peek(kw::method) {
        expr_option(input, &mut args.method)
    } else if lookahead.peek(kw::target) {
        expr_option(input, &mut args.target)
    } else if lookahead.peek(kw::server_id) {
        expr_option(input, &mut args.server_id)
    } else if lookahead.peek(kw::parent) {
        expr_option(input, &mut args.parent)
    } else if lookahead.peek(kw::kind) {
        let key = key_eq(input)?;
        let ident: syn::Ident = input.parse()?;
        set_once(&mut args.kind, &key, word(&ident))
    } else if lookahead.peek(kw::level) {
        let key = key_eq(input)?;
        set_once(&mut args.level, &key, level(input)?)
    } else if lookahead.peek(kw::fields) {
        fields_option(cx, input, args, damaged)
    } else if lookahead.peek(kw::skip) {
        let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
        set_once(&mut args.skip, &key, key.span())
    } else {
        Err(unknown_option(input, OPTIONS))
    }
}

/// `key = expr`.
fn expr_option(input: ParseStream<'_>, slot: &mut Option<syn::Expr>) -> syn::Result<()> {
    let key = key_eq(input)?;
    set_once(slot, &key, input.parse()?)
}

/// `fields(..)`, recovering at each comma.
fn fields_option(
    cx: &mut Ctxt,
    input: ParseStream<'_>,
    args: &mut Args,
    damaged: &mut Option<Reported>,
) -> syn::Result<()> {
    let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
    let entries = in_parens(input, |content| {
        Ok(comma_list(cx, content, |_, entry| entry.parse::<Entry>()))
    })?;
    match entries.into_iter().collect::<Result<Vec<Entry>, _>>() {
        Ok(entries) => {
            let mut fields = Vec::new();
            for entry in entries {
                match entry {
                    Entry::Field(field) => fields.push(field),
                    Entry::Spread(value) => args.spreads.push(value),
                }
            }
            set_once(&mut args.fields, &key, fields)
        }
        Err(reported) => {
            damaged.get_or_insert(reported);
            Ok(())
        }
    }
}

fn key_eq(input: ParseStream<'_>) -> syn::Result<syn::Ident> {
    let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
    input.parse::<Token![=]>()?;
    Ok(key)
}

fn word(ident: &syn::Ident) -> Word {
    Word {
        text: ident.to_string(),
        span: ident.span(),
    }
}

/// A level, as a word or a string (checked against the levels in `validate`).
fn level(input: ParseStream<'_>) -> syn::Result<Word> {
    if input.peek(syn::LitStr) {
        let lit: syn::LitStr = input.parse()?;
        Ok(Word {
            text: lit.value(),
            span: lit.span(),
        })
    } else {
        input.parse().map(|ident: syn::Ident| word(&ident))
    }
}

impl Args {
    /// Only `skip`: the attribute of a method that opts out of its instrumented impl block.
    pub(crate) fn is_skip_only(&self) -> bool {
        self.skip.is_some()
            && self.method.is_none()
            && self.target.is_none()
            && self.kind.is_none()
            && self.server_id.is_none()
            && self.fields.is_none()
            && self.spreads.is_empty()
            && self.level.is_none()
            && self.parent.is_none()
    }
}
