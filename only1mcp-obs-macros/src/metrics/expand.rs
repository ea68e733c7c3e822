//! Code generation for `metrics!` (quote only; every rule was checked in `validate`).

use super::parse::{Domain, Dynamic, Family, Input, Item, Kind, Label};
use super::validate::{
    CheckedObjective, DEFAULT_BUDGET, DEFAULT_MAX_LEN, bound_value, check_objectives,
};
use crate::ctxt::{Ctxt, camel_case, doc_text};
use crate::label::{ClosedValue, closed_impl};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub(crate) fn expand(input: &Input) -> TokenStream {
    input
        .items
        .iter()
        .map(|item| match item {
            Item::Family(f) => family(f),
            Item::Dynamic(d) => dynamic(d),
        })
        .collect()
}

fn family(f: &Family) -> TokenStream {
    let Family {
        attrs,
        vis,
        ident,
        name,
        ..
    } = f;
    let name_str = name.value();
    let ty = format_ident!(
        "{}",
        camel_case(&ident.to_string().to_lowercase()),
        span = ident.span()
    );
    let desc = format_ident!("__OBS_DESC_{}", ident);
    let labels: &[Label] = f.labels.as_deref().unwrap_or_default();
    let inline_types: Vec<TokenStream> =
        labels.iter().filter_map(|l| inline_enum(&ty, l)).collect();
    let label_tys: Vec<TokenStream> = labels.iter().map(|l| label_type(&ty, l)).collect();
    let label_names: Vec<&String> = labels.iter().map(|l| &l.name).collect();
    let params: Vec<syn::Ident> = labels.iter().map(|l| param_ident(&l.name)).collect();
    let positions = 0..labels.len();
    let reasons = labels.iter().map(|l| match &l.allow_high_cardinality {
        Some((_, Some(r))) => quote!(::core::option::Option::Some(#r)),
        _ => quote!(::core::option::Option::None),
    });
    let cell = cell_type(f.kind);
    let kind = match f.kind {
        Kind::Counter => quote!(Counter),
        Kind::Gauge => quote!(Gauge),
        Kind::Histogram => quote!(Histogram),
    };
    let help = doc_text(attrs);
    let unit = match &f.unit {
        Some(u) => {
            let u = u.to_string();
            quote!(::core::option::Option::Some(#u))
        }
        None => quote!(::core::option::Option::None),
    };
    let mut scratch = Ctxt::default();
    let bounds: Vec<f64> = f
        .buckets
        .iter()
        .flat_map(|b| &b.bounds)
        .filter_map(|e| bound_value(&mut scratch, e))
        .collect();
    let budget = f
        .budget
        .as_ref()
        .and_then(|b| b.base10_parse::<u64>().ok())
        .unwrap_or(DEFAULT_BUDGET) as usize;
    let budget_span = f.budget.as_ref().map_or(name.span(), |b| b.span());
    let bounds_arg = if f.buckets.is_some() {
        let n = bounds.len();
        quote!(::core::option::Option::Some(#n))
    } else {
        quote!(::core::option::Option::None)
    };
    let objectives: Vec<TokenStream> = check_objectives(&mut Ctxt::default(), f)
        .into_iter()
        .map(|o| match o {
            CheckedObjective::Availability { target } => quote!(::only1mcp_obs::Objective::Availability { target: #target }),
            CheckedObjective::Latency { threshold, target } => {
                quote!(::only1mcp_obs::Objective::Latency { threshold: #threshold, target: #target })
            }
        })
        .collect();
    let size = quote!(::only1mcp_obs::__private::series_count(&[#(<#label_tys as ::only1mcp_obs::LabelValue>::CARDINALITY),*]));
    let budget_check = quote_spanned! {budget_span=>
        const _: () = ::only1mcp_obs::__private::check_budget(
            #name_str,
            &[#((#label_names, <#label_tys as ::only1mcp_obs::LabelValue>::CARDINALITY)),*],
            #bounds_arg,
            #budget,
        );
    };
    let dup_marker = format_ident!("duplicate_metric_name_{}", name_str, span = name.span());
    // Two families with one name in a crate define this macro twice: a compile error on the name.
    let dup_check = quote_spanned! {name.span()=>
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #dup_marker { () => {} }
    };
    let handle_doc = format!(
        "Typed handle of the {} `{name_str}`; see [`{ident}`].",
        f.kind.as_str()
    );
    let labels_doc = labels_doc(f, labels);
    let reg = format_ident!("__OBS_REGISTER_{}", ident);
    let kind_span = f.kind_span;
    let static_item = quote_spanned! {kind_span=>
        #vis static #ident: #ty = #ty(::only1mcp_obs::__private::Family::new(&#desc, #size));
    };
    quote! {
        #(#inline_types)*

        #(#attrs)*
        #[doc = ""]
        #[doc = #labels_doc]
        #static_item

        #[doc = #handle_doc]
        #vis struct #ty(::only1mcp_obs::__private::Family<::only1mcp_obs::#cell>);

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #desc: ::only1mcp_obs::FamilyDesc = ::only1mcp_obs::FamilyDesc {
            name: #name_str,
            help: #help,
            kind: ::only1mcp_obs::MetricKind::#kind,
            unit: #unit,
            labels: &[#(::only1mcp_obs::LabelDesc {
                name: #label_names,
                domain: <#label_tys as ::only1mcp_obs::LabelValue>::DOMAIN,
                high_cardinality_reason: #reasons,
            }),*],
            buckets: &[#(#bounds),*],
            budget: #budget,
            objectives: &[#(#objectives),*],
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            line: ::core::line!(),
        };

        impl #ty {
            /// Resolves the series for these label values. Keep the returned handle to update
            /// the series with no further lookup: it never allocates or hashes.
            #[inline]
            #[allow(clippy::too_many_arguments)]
            pub fn labels(&'static self, #(#params: #label_tys),*) -> &'static ::only1mcp_obs::#cell {
                #[allow(unused_mut)]
                let mut __obs_index = 0usize;
                #(
                    __obs_index = __obs_index * <#label_tys as ::only1mcp_obs::LabelValue>::CARDINALITY
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

        #[::only1mcp_obs::__private::linkme::distributed_slice(::only1mcp_obs::__private::FAMILIES)]
        #[linkme(crate = ::only1mcp_obs::__private::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unsafe_code)]
        static #reg: &'static dyn ::only1mcp_obs::__private::Collect = &#ident.0;

        #budget_check

        #dup_check
    }
}

fn cell_type(kind: Kind) -> TokenStream {
    match kind {
        Kind::Counter => quote!(Counter),
        Kind::Gauge => quote!(Gauge),
        Kind::Histogram => quote!(Histogram),
    }
}

/// A parameter name for a label; keywords such as `type` become raw identifiers.
fn param_ident(name: &str) -> syn::Ident {
    let span = proc_macro2::Span::call_site();
    match name {
        // Rejected by validation; never a panic here whatever reaches expansion.
        "self" | "Self" | "super" | "crate" | "_" => {
            format_ident!("{}_label", name.trim_start_matches('_'))
        }
        _ => syn::parse_str::<syn::Ident>(name).unwrap_or_else(|_| syn::Ident::new_raw(name, span)),
    }
}

fn inline_type_ident(family_ty: &syn::Ident, label: &Label) -> syn::Ident {
    format_ident!("{}{}", family_ty, camel_case(&label.name))
}

fn label_type(family_ty: &syn::Ident, label: &Label) -> TokenStream {
    match &label.domain {
        Domain::Type(ty) => quote!(#ty),
        Domain::Inline { .. } => {
            let ident = inline_type_ident(family_ty, label);
            quote!(#ident)
        }
    }
}

/// An inline list `status: ["ok", "error"]` becomes a public enum with a `LabelValue` impl.
fn inline_enum(family_ty: &syn::Ident, label: &Label) -> Option<TokenStream> {
    let Domain::Inline { values, .. } = &label.domain else {
        return None;
    };
    let ident = inline_type_ident(family_ty, label);
    let closed: Vec<ClosedValue> = values
        .iter()
        .map(|lit| ClosedValue {
            variant: format_ident!("{}", camel_case(&lit.value()), span = lit.span()),
            value: lit.value(),
            value_span: lit.span(),
            is_error: false,
        })
        .collect();
    let doc = format!("Values of the label `{}` of [`{family_ty}`].", label.name);
    Some(closed_impl(&ident, &doc, &closed, true))
}

fn labels_doc(f: &Family, labels: &[Label]) -> String {
    let mut doc = format!("`{}` ({}", f.name.value(), f.kind.as_str());
    if let Some(u) = &f.unit {
        doc.push_str(&format!(", unit {u}"));
    }
    doc.push(')');
    if labels.is_empty() {
        doc.push_str(", no labels.");
    } else {
        let names: Vec<String> = labels.iter().map(|l| format!("`{}`", l.name)).collect();
        doc.push_str(&format!(", labels {}.", names.join(", ")));
    }
    doc
}

fn dynamic(d: &Dynamic) -> TokenStream {
    let Dynamic {
        attrs, vis, ident, ..
    } = d;
    let max = d
        .max
        .as_ref()
        .and_then(|m| m.base10_parse::<u32>().ok())
        .unwrap_or(1);
    let max_usize = max as usize;
    let overflow = d.overflow.as_ref().map(|o| o.value()).unwrap_or_default();
    let max_len = d
        .max_len
        .as_ref()
        .and_then(|l| l.base10_parse::<usize>().ok())
        .unwrap_or(DEFAULT_MAX_LEN);
    let name = ident.to_string();
    let doc = doc_text(attrs);
    let extra = format!(
        "Bounded dynamic label domain: at most {max} distinct values of up to {max_len} bytes; \
         anything past that maps to `\"{overflow}\"`."
    );
    quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #extra]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #vis struct #ident(u32);

        impl #ident {
            /// The overflow value: stands for every value past the domain's maximum.
            pub const OVERFLOW: Self = Self(#max);

            /// Resolves `value` in this domain. A new value takes a free slot while there is one;
            /// past the maximum, and for empty or overlong values, the result is [`Self::OVERFLOW`].
            pub fn new(value: &str) -> Self {
                Self(Self::__obs_interner().resolve(value))
            }

            /// `value` if the domain admitted it already, else `None`; never admits a value,
            /// so untrusted input can be checked against the values seen so far.
            pub fn lookup(value: &str) -> ::core::option::Option<Self> {
                Self::__obs_interner().lookup(value).map(Self)
            }

            /// The label value this stands for.
            pub fn as_str(self) -> &'static str {
                Self::__obs_interner().value(self.0)
            }

            /// Whether this is the overflow value.
            pub fn is_overflow(self) -> bool {
                self.0 == #max
            }

            fn __obs_interner() -> &'static ::only1mcp_obs::__private::Interner {
                static INTERNER: ::only1mcp_obs::__private::Interner =
                    ::only1mcp_obs::__private::Interner::new(#max, #overflow, #max_len);
                &INTERNER
            }

            fn __obs_value_at(index: usize) -> ::core::option::Option<&'static str> {
                Self::__obs_interner().value_at(index)
            }
        }

        impl ::core::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::only1mcp_obs::LabelValue for #ident {
            const DOMAIN: &'static ::only1mcp_obs::DomainDesc = &::only1mcp_obs::DomainDesc {
                name: #name,
                doc: #doc,
                kind: ::only1mcp_obs::DomainKind::Dynamic {
                    max: #max_usize,
                    overflow: #overflow,
                    max_len: #max_len,
                    value_at: Self::__obs_value_at,
                },
            };
            const CARDINALITY: usize = #max_usize + 1;
            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
            #[inline]
            fn is_overflow(self) -> bool {
                self.0 == #max
            }
            fn as_str(self) -> &'static str {
                Self::__obs_interner().value(self.0)
            }
        }
    }
}
