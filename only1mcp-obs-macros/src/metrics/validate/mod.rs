//! The rules of `metrics!`, applied while the syntax is lowered into the [model](super::model).
//! Every rule reports on the user's tokens and says what to write instead; the lowering of a
//! part that breaks a rule returns the proof of that report, so the model is only ever built
//! from input that passed every rule.

mod buckets;
mod dynamic;
mod labels;
mod name;
mod objectives;
mod stub;

use super::model::{Budget, Fallback, Family, Item, Model, Shape};
use super::parse::{self, Declaration, FamilyBody, Input};
use crate::ctxt::{Ctxt, Reported};
use crate::text::{camel_case, is_doc};
use proc_macro2::Span;
use quote::format_ident;
use std::collections::HashMap;

/// The budget of a family that declares none.
const DEFAULT_BUDGET: usize = 1000;

/// An invocation that broke a rule: every error, and what it still declares.
pub(crate) struct Invalid {
    pub(crate) error: syn::Error,
    pub(crate) fallback: Fallback,
}

/// Checks a parsed invocation (whose syntax errors are in `cx`) and builds its model.
pub(crate) fn validate(mut cx: Ctxt, input: &Input) -> Result<Model, Invalid> {
    let lowered: Vec<Result<Item, Reported>> = input
        .items
        .iter()
        .map(|item| match item {
            parse::Item::Family(f) => family(&mut cx, f).map(Item::Family),
            parse::Item::Dynamic(d) => dynamic::dynamic(&mut cx, d).map(Item::Dynamic),
        })
        .collect();
    check_unique_names(&mut cx, input);
    let model = lowered
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map(|items| Model { items });
    cx.finish(model).map_err(|error| Invalid {
        error,
        fallback: stub::fallback(input),
    })
}

fn family(cx: &mut Ctxt, f: &parse::Family) -> Result<Family, Reported> {
    let decl = match &f.body {
        FamilyBody::Complete(decl) => decl,
        FamilyBody::Damaged { reported, .. } => return Err(*reported),
    };
    let shape = shape(f);
    let docs = only_docs(cx, &f.attrs);
    let help = name::help(cx, f, decl);
    let unit = name::unit(cx, decl);
    let name = name::name(cx, f.kind, decl, unit);
    let bounds = buckets::bounds(cx, f.kind, decl, unit);
    let budget = budget(cx, decl);
    let objectives = objectives::objectives(cx, f.kind, decl, bounds.as_deref().map_err(|r| *r));
    let labels = labels::labels(cx, &shape.ty, decl);
    docs?;
    Ok(Family {
        shape,
        name: name?,
        help: help?,
        unit: unit?,
        bounds: bounds?,
        budget: budget?,
        labels: labels?,
        objectives: objectives?,
    })
}

/// The names of a family's generated items. Its docs are the doc comments among its attributes
/// (a declaration with other attributes breaks [`only_docs`]).
fn shape(f: &parse::Family) -> Shape {
    Shape {
        docs: f.attrs.iter().filter(|a| is_doc(a)).cloned().collect(),
        vis: f.vis.clone(),
        ident: f.ident.clone(),
        ty: handle_type(&f.ident),
        kind: f.kind,
        kind_span: f.kind_span,
    }
}

/// The handle type of a family: `REQUESTS` -> `Requests`.
fn handle_type(ident: &syn::Ident) -> syn::Ident {
    format_ident!(
        "{}",
        camel_case(&ident.to_string().to_lowercase()),
        span = ident.span()
    )
}

/// The enum of an inline label list: label `status` of `Requests` -> `RequestsStatus`.
fn inline_type(family_ty: &syn::Ident, label: &str) -> syn::Ident {
    format_ident!("{}{}", family_ty, camel_case(label))
}

/// Rule: only doc comments are accepted on an item; they are its HELP text.
fn only_docs(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> Result<(), Reported> {
    let mark = cx.mark();
    for attr in attrs.iter().filter(|a| !is_doc(a)) {
        cx.error_spanned(
            attr,
            "unsupported attribute: only `///` doc comments are accepted here",
        );
    }
    cx.since(mark)
}

/// Rule: a budget is a positive integer; without one, a family may have 1000 series.
fn budget(cx: &mut Ctxt, decl: &Declaration) -> Result<Budget, Reported> {
    match &decl.budget {
        None => Ok(Budget {
            value: DEFAULT_BUDGET,
            span: decl.name.span(),
        }),
        Some(lit) => match lit.base10_parse::<usize>() {
            Ok(value) if value > 0 => Ok(Budget {
                value,
                span: lit.span(),
            }),
            _ => Err(cx.error_spanned(
                lit,
                "`budget` is the most series this family may have: a positive integer",
            )),
        },
    }
}

/// Rule: a metric name is declared once per invocation (across the crate: see the duplicate
/// name check of the generated code).
fn check_unique_names(cx: &mut Ctxt, input: &Input) {
    let mut first: HashMap<String, Span> = HashMap::new();
    for item in &input.items {
        let parse::Item::Family(parse::Family {
            body: FamilyBody::Complete(decl),
            ..
        }) = item
        else {
            continue;
        };
        let name = decl.name.value();
        match first.get(&name) {
            Some(span) => {
                let mut error = syn::Error::new(
                    decl.name.span(),
                    format!("metric `{name}` is declared twice"),
                );
                error.combine(syn::Error::new(
                    *span,
                    format!("first declaration of `{name}` is here"),
                ));
                cx.push(error);
            }
            None => {
                first.insert(name, decl.name.span());
            }
        }
    }
}
