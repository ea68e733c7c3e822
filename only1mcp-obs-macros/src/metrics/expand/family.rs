//! The code of one family: its static and handle type, descriptor, `labels(..)`, link-time
//! registration, and the compile-time checks of its budget and of its name across the crate.

use super::series_type;
use crate::label::closed_impl;
use crate::metrics::model::{Bound, Domain, Family, Kind, Label, Objective, Shape};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};

pub(super) fn family(f: &Family) -> TokenStream {
    let inline_types = f.labels.iter().filter_map(|label| match &label.domain {
        Domain::Inline(d) => Some(closed_impl(&d.ident, &d.doc, &d.values, true)),
        Domain::Type(_) => None,
    });
    let static_item = static_item(f);
    let handle = handle_type(f);
    let descriptor = descriptor(f);
    let methods = methods(f);
    let refs = label_refs(f);
    let registration = registration(f);
    let budget_check = budget_check(f);
    let name_check = name_check(f);
    quote! {
        #(#inline_types)*
        #static_item
        #handle
        #descriptor
        #methods
        #refs
        #registration
        #budget_check
        #name_check
    }
}

/// The descriptor static: `__OBS_DESC_REQUESTS`.
fn desc_ident(f: &Family) -> syn::Ident {
    format_ident!("__OBS_DESC_{}", f.shape.ident)
}

/// A label's domain type: the declared type, or the enum of an inline list.
fn label_type(label: &Label) -> TokenStream {
    match &label.domain {
        Domain::Type(ty) => quote!(#ty),
        Domain::Inline(d) => {
            let ident = &d.ident;
            quote!(#ident)
        }
    }
}

fn label_types(f: &Family) -> Vec<TokenStream> {
    f.labels.iter().map(label_type).collect()
}

/// The static, documented with its doc comments and a line naming the family and its labels.
fn static_item(f: &Family) -> TokenStream {
    let Shape {
        docs,
        vis,
        ident,
        ty,
        kind_span,
        ..
    } = &f.shape;
    let desc = desc_ident(f);
    let types = label_types(f);
    let size = quote!(::only1mcp_obs::__private::series_count(&[#(<#types as ::only1mcp_obs::LabelValue>::CARDINALITY),*]));
    let labels_doc = labels_doc(f);
    let item = quote_spanned! {*kind_span=>
        #vis static #ident: #ty = #ty(::only1mcp_obs::__private::Family::new(&#desc, #size));
    };
    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #labels_doc]
        #item
    }
}

/// "`name` (kind, unit u), labels `a`, `b`."
fn labels_doc(f: &Family) -> String {
    let mut doc = format!("`{}` ({}", f.name.value, f.shape.kind.as_str());
    if let Some(unit) = f.unit {
        doc.push_str(&format!(", unit {}", unit.as_str()));
    }
    doc.push(')');
    if f.labels.is_empty() {
        doc.push_str(", no labels.");
    } else {
        let names: Vec<String> = f.labels.iter().map(|l| format!("`{}`", l.name)).collect();
        doc.push_str(&format!(", labels {}.", names.join(", ")));
    }
    doc
}

fn handle_type(f: &Family) -> TokenStream {
    let Shape {
        vis,
        ident,
        ty,
        kind,
        ..
    } = &f.shape;
    let series = series_type(*kind);
    let doc = format!(
        "Typed handle of the {} `{}`; see [`{ident}`].",
        kind.as_str(),
        f.name.value
    );
    quote! {
        #[doc = #doc]
        #vis struct #ty(::only1mcp_obs::__private::Family<::only1mcp_obs::#series>);
    }
}

fn descriptor(f: &Family) -> TokenStream {
    let desc = desc_ident(f);
    let (name, help) = (&f.name.value, &f.help);
    let kind = series_type(f.shape.kind);
    let unit = match f.unit {
        Some(unit) => {
            let unit = unit.as_str();
            quote!(::core::option::Option::Some(#unit))
        }
        None => quote!(::core::option::Option::None),
    };
    let labels = f.labels.iter().map(label_desc);
    let buckets = f.bounds.iter().map(bound_literal);
    let budget = f.budget.value;
    let objectives = f.objectives.iter().map(objective);
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #desc: ::only1mcp_obs::FamilyDesc = ::only1mcp_obs::FamilyDesc {
            name: #name,
            help: #help,
            kind: ::only1mcp_obs::MetricKind::#kind,
            unit: #unit,
            labels: &[#(#labels),*],
            buckets: &[#(#buckets),*],
            budget: #budget,
            objectives: &[#(#objectives),*],
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
        };
    }
}

fn label_desc(label: &Label) -> TokenStream {
    let name = &label.name;
    let ty = label_type(label);
    let reason = match &label.high_cardinality_reason {
        Some(reason) => quote!(::core::option::Option::Some(#reason)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::only1mcp_obs::LabelDesc {
            name: #name,
            domain: <#ty as ::only1mcp_obs::LabelValue>::DOMAIN,
            high_cardinality_reason: #reason,
        }
    }
}

/// A bound as an `f64` literal on the bound as written.
fn bound_literal(bound: &Bound) -> Literal {
    let mut literal = Literal::f64_suffixed(bound.value);
    literal.set_span(bound.span);
    literal
}

fn objective(objective: &Objective) -> TokenStream {
    match objective {
        Objective::Availability { target } => {
            quote!(::only1mcp_obs::Objective::Availability { target: #target })
        }
        Objective::Latency { threshold, target } => {
            quote!(::only1mcp_obs::Objective::Latency { threshold: #threshold, target: #target })
        }
    }
}

/// `labels(..)`, which finds a series by the dense index of its label values, and `descriptor()`.
fn methods(f: &Family) -> TokenStream {
    let ty = &f.shape.ty;
    let desc = desc_ident(f);
    let series = series_type(f.shape.kind);
    let params: Vec<&syn::Ident> = f.labels.iter().map(|l| &l.param).collect();
    let types = label_types(f);
    let positions = 0..f.labels.len();
    quote! {
        impl #ty {
            /// Resolves the series for these label values. Keep the returned handle to update
            /// the series with no further lookup: it never allocates or hashes.
            #[inline]
            #[allow(clippy::too_many_arguments)]
            pub fn labels(&'static self, #(#params: #types),*) -> &'static ::only1mcp_obs::#series {
                #[allow(unused_mut)]
                let mut __obs_index = 0usize;
                #(
                    __obs_index = __obs_index * <#types as ::only1mcp_obs::LabelValue>::CARDINALITY
                        + ::only1mcp_obs::LabelValue::index(#params);
                    if ::only1mcp_obs::LabelValue::is_overflow(#params) {
                        self.0.record_overflow(#positions);
                    }
                )*
                self.0.series(__obs_index)
            }

            /// The descriptor of this family: name, kind, unit, help, labels, buckets, budget.
            pub fn descriptor(&self) -> &'static ::only1mcp_obs::FamilyDesc {
                &#desc
            }
        }
    }
}

/// The name of the struct of a family's typed label references: `RequestsLabelRefs`.
pub(super) fn refs_ident(ty: &syn::Ident) -> syn::Ident {
    format_ident!("{}LabelRefs", ty)
}

/// `promql()` and `label_refs()`, and the struct of typed label references, for writing PromQL
/// about the family (alert policies) with names the compiler checks.
fn label_refs(f: &Family) -> TokenStream {
    let Shape { vis, ty, kind, .. } = &f.shape;
    let refs = refs_ident(ty);
    let desc = desc_ident(f);
    let series = series_type(*kind);
    let params: Vec<&syn::Ident> = f.labels.iter().map(|l| &l.param).collect();
    let names = f.labels.iter().map(|l| &l.name);
    let types = label_types(f);
    let docs = f.labels.iter().map(|l| format!("The label `{}`.", l.name));
    let doc = format!("The labels of `{}`, typed by their domains.", f.name.value);
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #refs {
            #( #[doc = #docs] pub #params: ::only1mcp_obs::metrics::promql::LabelRef<#types>, )*
        }

        impl #ty {
            /// This family's samples, for writing PromQL about it.
            pub const fn promql(&self) -> ::only1mcp_obs::metrics::promql::Metric<::only1mcp_obs::#series> {
                ::only1mcp_obs::metrics::promql::Metric::__new(&#desc)
            }

            /// This family's labels, typed by their domains, for writing PromQL about it.
            pub const fn label_refs(&self) -> #refs {
                #refs { #( #params: ::only1mcp_obs::metrics::promql::LabelRef::__new(#names), )* }
            }
        }
    }
}

/// The family in the link-time list every registry reads.
fn registration(f: &Family) -> TokenStream {
    let ident = &f.shape.ident;
    let reg = format_ident!("__OBS_REGISTER_{}", ident);
    quote! {
        #[::only1mcp_obs::__private::linkme::distributed_slice(::only1mcp_obs::__private::FAMILIES)]
        #[linkme(crate = ::only1mcp_obs::__private::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unsafe_code)]
        static #reg: &'static dyn ::only1mcp_obs::__private::Collect = &#ident.0;
    }
}

/// Fails compilation, on the budget (or the name), when the label domains allow more series.
fn budget_check(f: &Family) -> TokenStream {
    let name = &f.name.value;
    let names = f.labels.iter().map(|l| &l.name);
    let types = label_types(f);
    let bounds = match f.shape.kind {
        Kind::Histogram => {
            let n = f.bounds.len();
            quote!(::core::option::Option::Some(#n))
        }
        Kind::Counter | Kind::Gauge => quote!(::core::option::Option::None),
    };
    let budget = f.budget.value;
    quote_spanned! {f.budget.span=>
        const _: () = ::only1mcp_obs::__private::check_budget(
            #name,
            &[#((#names, <#types as ::only1mcp_obs::LabelValue>::CARDINALITY)),*],
            #bounds,
            #budget,
        );
    }
}

/// Two families with one name in a crate define this macro twice: a compile error on the name.
fn name_check(f: &Family) -> TokenStream {
    let span = f.name.span;
    let marker = format_ident!("duplicate_metric_name_{}", f.name.value, span = span);
    quote_spanned! {span=>
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #marker { () => {} }
    }
}
