//! Syntax of `metrics!` into plain structs that keep the user's spans.

use crate::ctxt::{set_once, unknown_option, unknown_word};
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Token, braced, bracketed};

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

pub(crate) struct Input {
    pub(crate) items: Vec<Item>,
}

pub(crate) enum Item {
    Family(Family),
    Dynamic(Dynamic),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

pub(crate) struct Family {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) kind: Kind,
    pub(crate) kind_span: Span,
    pub(crate) ident: syn::Ident,
    pub(crate) name: syn::LitStr,
    pub(crate) brace: Span,
    pub(crate) unit: Option<syn::Ident>,
    pub(crate) buckets: Option<Buckets>,
    pub(crate) labels: Option<Vec<Label>>,
    pub(crate) budget: Option<syn::LitInt>,
    pub(crate) objectives: Option<(Span, Vec<Objective>)>,
}

pub(crate) struct Buckets {
    pub(crate) span: Span,
    pub(crate) bounds: Vec<syn::Expr>,
}

pub(crate) struct Label {
    pub(crate) allow_high_cardinality: Option<(syn::Attribute, Option<syn::LitStr>)>,
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

pub(crate) struct Dynamic {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: syn::Ident,
    pub(crate) brace: Span,
    pub(crate) max: Option<syn::LitInt>,
    pub(crate) overflow: Option<syn::LitStr>,
    pub(crate) max_len: Option<syn::LitInt>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse()?);
        }
        Ok(Input { items })
    }
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
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
            return parse_dynamic(input, attrs, vis).map(Item::Dynamic);
        } else {
            return Err(unknown_word(
                input,
                "item",
                &["counter", "gauge", "histogram", "dynamic"],
            ));
        };
        let ident: syn::Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let name: syn::LitStr = input.parse()?;
        let content;
        let brace = braced!(content in input).span.join();
        let mut family = Family {
            attrs,
            vis,
            kind,
            kind_span,
            ident,
            name,
            brace,
            unit: None,
            buckets: None,
            labels: None,
            budget: None,
            objectives: None,
        };
        parse_family_options(&content, &mut family)?;
        Ok(Item::Family(family))
    }
}

/// `key: value` pairs separated by commas; unknown keys are errors naming the known ones.
fn parse_family_options(input: ParseStream<'_>, f: &mut Family) -> syn::Result<()> {
    while !input.is_empty() {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::unit) {
            let key = option_key(input)?;
            set_once(&mut f.unit, &key, input.parse()?)?;
        } else if lookahead.peek(kw::buckets) {
            let key = option_key(input)?;
            let content;
            let span = bracketed!(content in input).span.join();
            let bounds = Punctuated::<syn::Expr, Token![,]>::parse_terminated(&content)?;
            set_once(
                &mut f.buckets,
                &key,
                Buckets {
                    span,
                    bounds: bounds.into_iter().collect(),
                },
            )?;
        } else if lookahead.peek(kw::labels) {
            let key = option_key(input)?;
            let content;
            braced!(content in input);
            let labels = Punctuated::<Label, Token![,]>::parse_terminated(&content)?;
            set_once(&mut f.labels, &key, labels.into_iter().collect())?;
        } else if lookahead.peek(kw::budget) {
            let key = option_key(input)?;
            set_once(&mut f.budget, &key, input.parse()?)?;
        } else if lookahead.peek(kw::objectives) {
            let key = option_key(input)?;
            let content;
            let span = bracketed!(content in input).span.join();
            let items = Punctuated::<Objective, Token![,]>::parse_terminated(&content)?;
            set_once(&mut f.objectives, &key, (span, items.into_iter().collect()))?;
        } else {
            return Err(unknown_option(
                input,
                &["unit", "buckets", "labels", "budget", "objectives"],
            ));
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// Parses `key:` and returns the key for duplicate detection.
fn option_key(input: ParseStream<'_>) -> syn::Result<syn::Ident> {
    let key = input.call(syn::ext::IdentExt::parse_any)?;
    input.parse::<Token![:]>()?;
    Ok(key)
}

fn parse_dynamic(
    input: ParseStream<'_>,
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
) -> syn::Result<Dynamic> {
    let ident: syn::Ident = input.parse()?;
    let content;
    let brace = braced!(content in input).span.join();
    let mut d = Dynamic {
        attrs,
        vis,
        ident,
        brace,
        max: None,
        overflow: None,
        max_len: None,
    };
    while !content.is_empty() {
        let lookahead = content.lookahead1();
        if lookahead.peek(kw::max_len) {
            let key = option_key(&content)?;
            set_once(&mut d.max_len, &key, content.parse()?)?;
        } else if lookahead.peek(kw::max) {
            let key = option_key(&content)?;
            set_once(&mut d.max, &key, content.parse()?)?;
        } else if lookahead.peek(kw::overflow) {
            let key = option_key(&content)?;
            set_once(&mut d.overflow, &key, content.parse()?)?;
        } else {
            return Err(unknown_option(&content, &["max", "overflow", "max_len"]));
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(d)
}

impl Parse for Label {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let mut allow_high_cardinality = None;
        let mut other_attrs = Vec::new();
        for attr in attrs {
            if attr.path().is_ident("allow_high_cardinality") {
                let reason = parse_reason(&attr)?;
                allow_high_cardinality = Some((attr, reason));
            } else {
                other_attrs.push(attr);
            }
        }
        let (name, name_span) = if input.peek(syn::LitStr) {
            let lit: syn::LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else {
            let ident: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let text = ident.to_string();
            (
                text.strip_prefix("r#").unwrap_or(&text).to_owned(),
                ident.span(),
            )
        };
        input.parse::<Token![:]>()?;
        let domain = if input.peek(syn::token::Bracket) {
            let content;
            let span = bracketed!(content in input).span.join();
            let values = Punctuated::<syn::LitStr, Token![,]>::parse_terminated(&content)?;
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

/// A service level objective: `availability(99.9)` or `latency(0.25, 99.0)`.
pub(crate) struct Objective {
    pub(crate) kind: syn::Ident,
    pub(crate) args: Vec<syn::Expr>,
}

impl Parse for Objective {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let kind: syn::Ident = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let args = Punctuated::<syn::Expr, Token![,]>::parse_terminated(&content)?;
        Ok(Objective {
            kind,
            args: args.into_iter().collect(),
        })
    }
}
