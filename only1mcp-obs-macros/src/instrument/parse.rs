//! The options of `#[mcp_instrumented(...)]`.

use crate::ctxt::{set_once, unknown_option};
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Token, parenthesized};

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

pub(crate) const OPTIONS: &[&str] = &[
    "method",
    "target",
    "kind",
    "server_id",
    "fields",
    "level",
    "parent",
    "skip",
];

#[derive(Default, Clone)]
pub(crate) struct Args {
    pub(crate) method: Option<syn::Expr>,
    pub(crate) target: Option<syn::Expr>,
    pub(crate) kind: Option<syn::Ident>,
    pub(crate) server_id: Option<syn::Expr>,
    pub(crate) fields: Option<Vec<Field>>,
    pub(crate) level: Option<syn::Ident>,
    pub(crate) parent: Option<syn::Expr>,
    pub(crate) skip: Option<Span>,
}

/// `name` (an argument), `name = expr`, or `"dotted.name" = expr` (semantic-convention keys);
/// as in `tracing`, `%` before the argument or the value records it with `Display`, `?` with
/// `Debug`.
#[derive(Clone)]
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
#[derive(Clone)]
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

    pub(crate) fn span(&self) -> proc_macro2::Span {
        match self {
            FieldName::Ident(i) => i.span(),
            FieldName::Lit(l) => l.span(),
        }
    }
}

impl quote::ToTokens for FieldName {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        match self {
            FieldName::Ident(i) => i.to_tokens(tokens),
            FieldName::Lit(l) => l.to_tokens(tokens),
        }
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

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::method) {
                let key = key_eq(input)?;
                set_once(&mut args.method, &key, input.parse()?)?;
            } else if lookahead.peek(kw::target) {
                let key = key_eq(input)?;
                set_once(&mut args.target, &key, input.parse()?)?;
            } else if lookahead.peek(kw::kind) {
                let key = key_eq(input)?;
                set_once(&mut args.kind, &key, input.parse()?)?;
            } else if lookahead.peek(kw::server_id) {
                let key = key_eq(input)?;
                set_once(&mut args.server_id, &key, input.parse()?)?;
            } else if lookahead.peek(kw::level) {
                let key = key_eq(input)?;
                let level = if input.peek(syn::LitStr) {
                    let lit: syn::LitStr = input.parse()?;
                    // Any string may be written here; only a word can stand for a level.
                    syn::parse_str::<syn::Ident>(&lit.value())
                        .map(|ident| syn::Ident::new(&ident.to_string(), lit.span()))
                        .map_err(|_| {
                            syn::Error::new(
                                lit.span(),
                                format!(
                                    "unknown level `{}`: use one of trace, debug, info, warn, error",
                                    lit.value()
                                ),
                            )
                        })?
                } else {
                    input.parse()?
                };
                set_once(&mut args.level, &key, level)?;
            } else if lookahead.peek(kw::parent) {
                let key = key_eq(input)?;
                set_once(&mut args.parent, &key, input.parse()?)?;
            } else if lookahead.peek(kw::fields) {
                let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
                let content;
                parenthesized!(content in input);
                let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
                set_once(&mut args.fields, &key, fields.into_iter().collect())?;
            } else if lookahead.peek(kw::skip) {
                let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
                set_once(&mut args.skip, &key, key.span())?;
            } else {
                return Err(unknown_option(input, OPTIONS));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

fn key_eq(input: ParseStream<'_>) -> syn::Result<syn::Ident> {
    let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
    input.parse::<Token![=]>()?;
    Ok(key)
}

impl Args {
    /// Options of an impl-level attribute, overridden by nothing (methods with their own
    /// attribute expand on their own).
    pub(crate) fn is_skip_only(&self) -> bool {
        self.skip.is_some()
            && self.method.is_none()
            && self.target.is_none()
            && self.kind.is_none()
            && self.server_id.is_none()
            && self.fields.is_none()
            && self.level.is_none()
            && self.parent.is_none()
    }
}
