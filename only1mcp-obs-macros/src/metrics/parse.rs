//! Syntax of `metrics!` into plain structs that keep the user's tokens and spans.
//!
//! Parsing recovers: a bad item is skipped up to its closing brace, a bad option or label up to
//! the next comma, and the error recorded. An item that did not parse completely keeps what did
//! (its name, kind and labels) so that a stand-in can still be declared for it.

use super::model::Kind;
use crate::ctxt::{Ctxt, Reported};
use crate::syntax::{
    comma_list, in_braces, in_brackets, in_parens, set_once, skip_to_brace, unknown_option,
    unknown_word,
};
use proc_macro2::{Span, TokenStream};
use syn::Token;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;

mod kw {
    syn::custom_keyword!(counter);
    syn::custom_keyword!(gauge);
    syn::custom_keyword!(histogram);
    syn::custom_keyword!(dynamic);
    syn::custom_keyword!(unit);
    syn::custom_keyword!(buckets);
    syn::custom_keyword!(labels);
    syn::custom_keyword!(budget);
    syn::custom_keyword!(objectives);
    syn::custom_keyword!(max);
    syn::custom_keyword!(overflow);
    syn::custom_keyword!(max_len);
}

const ITEMS: &[&str] = &["counter", "gauge", "histogram", "dynamic"];
const FAMILY_OPTIONS: &[&str] = &["unit", "buckets", "labels", "budget", "objectives"];
const DYNAMIC_OPTIONS: &[&str] = &["max", "overflow", "max_len"];

pub(crate) struct Input {
    pub(crate) items: Vec<Item>,
}

pub(crate) enum Item {
    Family(Family),
    Dynamic(Dynamic),
}

/// `counter NAME = "name" { .. }` and the other kinds.
pub(crate) struct Family {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) kind: Kind,
    pub(crate) kind_span: Span,
    pub(crate) ident: syn::Ident,
    pub(crate) body: FamilyBody,
}

pub(crate) enum FamilyBody {
    /// Everything after the identifier parsed.
    Complete(Declaration),
    /// Something did not parse: the proof its error is recorded, and the labels, if their
    /// list was reached.
    Damaged {
        reported: Reported,
        labels: Option<Vec<Result<Label, Reported>>>,
    },
}

/// A family's name and options, as written.
pub(crate) struct Declaration {
    pub(crate) name: syn::LitStr,
    pub(crate) brace: Span,
    pub(crate) unit: Option<syn::Ident>,
    pub(crate) buckets: Option<Buckets>,
    pub(crate) labels: Vec<Label>,
    pub(crate) budget: Option<syn::LitInt>,
    pub(crate) objectives: Vec<Objective>,
}

pub(crate) struct Buckets {
    pub(crate) span: Span,
    pub(crate) bounds: Vec<syn::Expr>,
}

pub(crate) struct Label {
    pub(crate) allow_high_cardinality: HighCardinality,
    pub(crate) other_attrs: Vec<syn::Attribute>,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) domain: Domain,
}

pub(crate) enum Domain {
    Type(Box<syn::Type>),
    Inline {
        span: Span,
        values: Vec<syn::LitStr>,
    },
}

/// A service level objective as written: `availability(99.9)` or `latency(0.25, 99.0)`.
pub(crate) struct Objective {
    pub(crate) kind: syn::Ident,
    pub(crate) args: Vec<syn::Expr>,
}

/// `dynamic Name { max: .., overflow: "..", max_len: .. }`.
pub(crate) struct Dynamic {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: syn::Ident,
    pub(crate) options: Result<DynamicOptions, Reported>,
}

pub(crate) struct DynamicOptions {
    pub(crate) brace: Span,
    pub(crate) max: Option<syn::LitInt>,
    pub(crate) overflow: Option<syn::LitStr>,
    pub(crate) max_len: Option<syn::LitInt>,
}

/// Parses an invocation, recording every syntax error in `cx`.
pub(crate) fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Input {
    let parser = |input: ParseStream<'_>| Ok(items(cx, input));
    match parser.parse2(tokens) {
        Ok(items) => Input { items },
        Err(error) => {
            cx.push(error);
            Input { items: Vec::new() }
        }
    }
}

fn items(cx: &mut Ctxt, input: ParseStream<'_>) -> Vec<Item> {
    let mut items = Vec::new();
    while !input.is_empty() {
        match item(cx, input) {
            Ok(item) => items.push(item),
            Err(error) => {
                cx.push(error);
                skip_item(input);
            }
        }
    }
    items
}

/// Skips the rest of an item: up to and including its `{ .. }` body.
fn skip_item(input: ParseStream<'_>) {
    skip_to_brace(input);
    if input.peek(syn::token::Brace) {
        // A brace group is next: taking it as a group cannot fail.
        let _body = input.parse::<proc_macro2::Group>();
    }
}

/// One item; an error before its identifier loses the whole item.
fn item(cx: &mut Ctxt, input: ParseStream<'_>) -> syn::Result<Item> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let vis: syn::Visibility = input.parse()?;
    let lookahead = input.lookahead1();
    let (kind, kind_span) = if lookahead.peek(kw::counter) {
        (Kind::Counter, input.parse::<kw::counter>()?.span)
    } else if lookahead.peek(kw::gauge) {
        (Kind::Gauge, input.parse::<kw::gauge>()?.span)
    } else if lookahead.peek(kw::histogram) {
        (Kind::Histogram, input.parse::<kw::histogram>()?.span)
    } else if lookahead.peek(kw::dynamic) {
        input.parse::<kw::dynamic>()?;
        return dynamic(cx, input, attrs, vis).map(Item::Dynamic);
    } else {
        return Err(unknown_word(input, "item", ITEMS));
    };
    let ident: syn::Ident = input.parse()?;
    let body = family_body(cx, input);
    Ok(Item::Family(Family {
        attrs,
        vis,
        kind,
        kind_span,
        ident,
        body,
    }))
}

/// `= "name" { options }`.
fn family_body(cx: &mut Ctxt, input: ParseStream<'_>) -> FamilyBody {
    let name = input
        .parse::<Token![=]>()
        .and_then(|_| input.parse::<syn::LitStr>())
        .map_err(|error| {
            let reported = cx.push(error);
            skip_to_brace(input);
            reported
        });
    if let Err(reported) = name
        && !input.peek(syn::token::Brace)
    {
        // No body to read the labels from, and nothing more to say about it.
        return FamilyBody::Damaged {
            reported,
            labels: None,
        };
    }
    let options = in_braces(input, |content| Ok(family_options(cx, content)));
    match (name, options) {
        (Ok(name), Ok((brace, options))) => options.into_body(name, brace),
        (Err(reported), Ok((_, options))) => FamilyBody::Damaged {
            reported,
            labels: options.labels,
        },
        (_, Err(error)) => FamilyBody::Damaged {
            reported: cx.push(error),
            labels: None,
        },
    }
}

/// A family's options while they are parsed.
#[derive(Default)]
struct FamilyOptions {
    unit: Option<syn::Ident>,
    buckets: Option<Buckets>,
    labels: Option<Vec<Result<Label, Reported>>>,
    budget: Option<syn::LitInt>,
    objectives: Option<Vec<Objective>>,
    /// The first option that did not parse.
    damaged: Option<Reported>,
}

impl FamilyOptions {
    fn into_body(self, name: syn::LitStr, brace: Span) -> FamilyBody {
        let labels = self.labels.unwrap_or_default();
        let damaged = self
            .damaged
            .or_else(|| labels.iter().find_map(|l| l.as_ref().err().copied()));
        if let Some(reported) = damaged {
            return FamilyBody::Damaged {
                reported,
                labels: Some(labels),
            };
        }
        FamilyBody::Complete(Declaration {
            name,
            brace,
            unit: self.unit,
            buckets: self.buckets,
            labels: labels.into_iter().flatten().collect(),
            budget: self.budget,
            objectives: self.objectives.unwrap_or_default(),
        })
    }
}

/// `key: value` pairs separated by commas; unknown keys are errors naming the known ones.
fn family_options(cx: &mut Ctxt, input: ParseStream<'_>) -> FamilyOptions {
    let mut options = FamilyOptions::default();
    let parsed = comma_list(cx, input, |cx, input| {
        family_option(cx, input, &mut options)
    });
    options.damaged = parsed.into_iter().find_map(Result::err);
    options
}

fn family_option(cx: &mut Ctxt, input: ParseStream<'_>, o: &mut FamilyOptions) -> syn::Result<()> {
    let lookahead = input.lookahead1();
    if lookahead.peek(kw::unit) {
        let key = option_key(input)?;
        set_once(&mut o.unit, &key, input.parse()?)
    } else if lookahead.peek(kw::buckets) {
        let key = option_key(input)?;
        let (span, bounds) =
            in_brackets(input, Punctuated::<syn::Expr, Token![,]>::parse_terminated)?;
        let bounds = bounds.into_iter().collect();
        set_once(&mut o.buckets, &key, Buckets { span, bounds })
    } else if lookahead.peek(kw::labels) {
        let key = option_key(input)?;
        let (_, labels) = in_braces(input, |content| {
            Ok(comma_list(cx, content, |_, l| l.parse()))
        })?;
        set_once(&mut o.labels, &key, labels)
    } else if lookahead.peek(kw::budget) {
        let key = option_key(input)?;
        set_once(&mut o.budget, &key, input.parse()?)
    } else if lookahead.peek(kw::objectives) {
        let key = option_key(input)?;
        let (_, objectives) =
            in_brackets(input, Punctuated::<Objective, Token![,]>::parse_terminated)?;
        set_once(&mut o.objectives, &key, objectives.into_iter().collect())
    } else {
        Err(unknown_option(input, FAMILY_OPTIONS))
    }
}

/// Parses `key:` and returns the key for duplicate detection.
fn option_key(input: ParseStream<'_>) -> syn::Result<syn::Ident> {
    let key = input.call(syn::ext::IdentExt::parse_any)?;
    input.parse::<Token![:]>()?;
    Ok(key)
}

fn dynamic(
    cx: &mut Ctxt,
    input: ParseStream<'_>,
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
) -> syn::Result<Dynamic> {
    let ident: syn::Ident = input.parse()?;
    let options = match in_braces(input, |content| Ok(dynamic_options(cx, content))) {
        Ok((brace, Ok((max, overflow, max_len)))) => Ok(DynamicOptions {
            brace,
            max,
            overflow,
            max_len,
        }),
        Ok((_, Err(reported))) => Err(reported),
        Err(error) => Err(cx.push(error)),
    };
    Ok(Dynamic {
        attrs,
        vis,
        ident,
        options,
    })
}

type DynamicValues = (
    Option<syn::LitInt>,
    Option<syn::LitStr>,
    Option<syn::LitInt>,
);

/// The options of a dynamic domain, unless one did not parse.
fn dynamic_options(cx: &mut Ctxt, input: ParseStream<'_>) -> Result<DynamicValues, Reported> {
    let (mut max, mut overflow, mut max_len) = (None, None, None);
    let parsed = comma_list(cx, input, |_, input| {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::max_len) {
            let key = option_key(input)?;
            set_once(&mut max_len, &key, input.parse()?)
        } else if lookahead.peek(kw::max) {
            let key = option_key(input)?;
            set_once(&mut max, &key, input.parse()?)
        } else if lookahead.peek(kw::overflow) {
            let key = option_key(input)?;
            set_once(&mut overflow, &key, input.parse()?)
        } else {
            Err(unknown_option(input, DYNAMIC_OPTIONS))
        }
    });
    match parsed.into_iter().find_map(Result::err) {
        Some(reported) => Err(reported),
        None => Ok((max, overflow, max_len)),
    }
}

impl Parse for Label {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (allow_high_cardinality, other_attrs) = label_attrs(input)?;
        let (name, name_span) = label_name(input)?;
        input.parse::<Token![:]>()?;
        let domain = if input.peek(syn::token::Bracket) {
            let (span, values) = in_brackets(
                input,
                Punctuated::<syn::LitStr, Token![,]>::parse_terminated,
            )?;
            Domain::Inline {
                span,
                values: values.into_iter().collect(),
            }
        } else {
            Domain::Type(Box::new(input.parse()?))
        };
        Ok(Label {
            allow_high_cardinality,
            other_attrs,
            name,
            name_span,
            domain,
        })
    }
}

type HighCardinality = Option<(syn::Attribute, Option<syn::LitStr>)>;

/// A label's `#[allow_high_cardinality(..)]`, and its other attributes.
fn label_attrs(input: ParseStream<'_>) -> syn::Result<(HighCardinality, Vec<syn::Attribute>)> {
    let mut allow_high_cardinality = None;
    let mut other_attrs = Vec::new();
    for attr in input.call(syn::Attribute::parse_outer)? {
        if attr.path().is_ident("allow_high_cardinality") {
            let reason = parse_reason(&attr)?;
            allow_high_cardinality = Some((attr, reason));
        } else {
            other_attrs.push(attr);
        }
    }
    Ok((allow_high_cardinality, other_attrs))
}

/// A label name: a word (`r#type` is `type`) or a string literal.
fn label_name(input: ParseStream<'_>) -> syn::Result<(String, Span)> {
    if input.peek(syn::LitStr) {
        let lit: syn::LitStr = input.parse()?;
        return Ok((lit.value(), lit.span()));
    }
    let ident: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
    let text = ident.to_string();
    Ok((
        text.strip_prefix("r#").unwrap_or(&text).to_owned(),
        ident.span(),
    ))
}

/// `#[allow_high_cardinality(reason = "...")]`; the reason is checked in `validate`.
fn parse_reason(attr: &syn::Attribute) -> syn::Result<Option<syn::LitStr>> {
    let mut reason = None;
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(None);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("reason") {
            reason = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("unknown option: expected `reason = \"why this label stays bounded\"`"))
        }
    })?;
    Ok(reason)
}

impl Parse for Objective {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let kind: syn::Ident = input.parse()?;
        let args = in_parens(input, Punctuated::<syn::Expr, Token![,]>::parse_terminated)?;
        Ok(Objective {
            kind,
            args: args.into_iter().collect(),
        })
    }
}
