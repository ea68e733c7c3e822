//! The fallback of an invocation with errors: what each item still declares, read from whatever
//! of it parsed, so that code using the items compiles quietly.

use super::labels::inline_domain;
use super::shape;
use crate::metrics::model::{Fallback, Stub, StubLabel};
use crate::metrics::parse::{self, FamilyBody, Input};
use crate::text::{camel_case, is_doc};
use std::collections::HashSet;

pub(super) fn fallback(input: &Input) -> Fallback {
    Fallback {
        items: input.items.iter().map(stub).collect(),
    }
}

fn stub(item: &parse::Item) -> Stub {
    match item {
        parse::Item::Family(f) => {
            let shape = shape(f);
            let labels: Vec<Option<&parse::Label>> = match &f.body {
                FamilyBody::Complete(decl) => decl.labels.iter().map(Some).collect(),
                FamilyBody::Damaged {
                    labels: Some(labels),
                    ..
                } => labels.iter().map(|label| label.as_ref().ok()).collect(),
                FamilyBody::Damaged { labels: None, .. } => Vec::new(),
            };
            let fields = stub_fields(&labels);
            let labels = stub_labels(&shape.ty, &labels);
            Stub::Family {
                shape,
                labels,
                fields,
            }
        }
        parse::Item::Dynamic(d) => Stub::Dynamic {
            docs: d.attrs.iter().filter(|a| is_doc(a)).cloned().collect(),
            vis: d.vis.clone(),
            ident: d.ident.clone(),
        },
    }
}

/// The parameters of `labels(..)`; `None` is a label that did not parse. An inline list whose
/// enum is already declared (a repeated label name) takes that enum.
fn stub_labels(family_ty: &syn::Ident, labels: &[Option<&parse::Label>]) -> Vec<StubLabel> {
    let mut declared = HashSet::new();
    labels
        .iter()
        .map(|label| match label {
            None => StubLabel::Unknown,
            Some(label) => match stub_label(family_ty, label) {
                StubLabel::Inline(d) if !declared.insert(d.ident.clone()) => {
                    StubLabel::Type(Box::new(syn::Type::Path(syn::TypePath {
                        qself: None,
                        path: d.ident.into(),
                    })))
                }
                other => other,
            },
        })
        .collect()
}

/// The fields of the stand-in `label_refs()`: one per label that parsed, whose name is a Rust
/// identifier not taken by an earlier label.
fn stub_fields(labels: &[Option<&parse::Label>]) -> Vec<Option<syn::Ident>> {
    let mut seen = HashSet::new();
    labels
        .iter()
        .map(|label| {
            let name = &label.as_ref()?.name;
            let ident = syn::parse_str::<syn::Ident>(name).ok()?;
            seen.insert(name.clone()).then_some(ident)
        })
        .collect()
}

/// A label's parameter; an inline list keeps one value per distinct variant that Rust accepts.
fn stub_label(family_ty: &syn::Ident, label: &parse::Label) -> StubLabel {
    match &label.domain {
        parse::Domain::Type(ty) => StubLabel::Type(ty.clone()),
        parse::Domain::Inline { values, .. } => {
            let mut seen = HashSet::new();
            let usable: Vec<syn::LitStr> = values
                .iter()
                .filter(|lit| {
                    let variant = camel_case(&lit.value());
                    variant != "Self" && seen.insert(variant)
                })
                .cloned()
                .collect();
            StubLabel::Inline(inline_domain(family_ty, &label.name, &usable))
        }
    }
}
