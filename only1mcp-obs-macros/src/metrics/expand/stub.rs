//! Stand-ins for the items of an invocation with errors. They have the names and the public API
//! of the real items (their bodies are never run: the crate does not compile), so that the
//! invocation's own errors are the only ones reported.

use super::series_type;
use crate::label::{closed_impl, label_value_stub};
use crate::metrics::model::{Shape, Stub, StubLabel};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub(super) fn stub(item: &Stub) -> TokenStream {
    match item {
        Stub::Family {
            shape,
            labels,
            fields,
        } => {
            let family = family(shape, labels);
            let refs = label_refs(shape, labels, fields);
            quote!(#family #refs)
        }
        Stub::Dynamic { docs, vis, ident } => dynamic(docs, vis, ident),
    }
}

/// The static and its handle type, with `labels(..)` taking one parameter per label.
fn family(shape: &Shape, labels: &[StubLabel]) -> TokenStream {
    let Shape {
        docs,
        vis,
        ident,
        ty,
        kind,
        ..
    } = shape;
    let series = series_type(*kind);
    let inline_types = labels.iter().filter_map(|label| match label {
        StubLabel::Inline(d) => Some(closed_impl(&d.ident, &d.doc, &d.values, true)),
        StubLabel::Type(_) | StubLabel::Unknown => None,
    });
    let (generics, types) = parameters(labels);
    quote! {
        #(#inline_types)*

        #(#docs)*
        #vis static #ident: #ty = #ty(());

        /// Stand-in for a family whose declaration has errors.
        #vis struct #ty(());

        impl #ty {
            /// Stand-in: the family's declaration has errors.
            #[allow(clippy::too_many_arguments)]
            pub fn labels<#(#generics),*>(&'static self, #(_: #types),*) -> &'static ::only1mcp_obs::#series {
                ::core::unreachable!()
            }

            /// Stand-in: the family's declaration has errors.
            pub fn descriptor(&self) -> &'static ::only1mcp_obs::FamilyDesc {
                ::core::unreachable!()
            }
        }
    }
}

/// `promql()`, `label_refs()` and its struct, with a field for each label that has a name and a
/// type.
fn label_refs(shape: &Shape, labels: &[StubLabel], fields: &[Option<syn::Ident>]) -> TokenStream {
    let Shape { vis, ty, kind, .. } = shape;
    let refs = super::family::refs_ident(ty);
    let series = series_type(*kind);
    let (params, types): (Vec<_>, Vec<_>) = labels
        .iter()
        .zip(fields)
        .filter_map(|(label, field)| {
            let ty = match label {
                StubLabel::Type(ty) => quote!(#ty),
                StubLabel::Inline(d) => {
                    let ident = &d.ident;
                    quote!(#ident)
                }
                StubLabel::Unknown => return None,
            };
            Some((field.clone()?, ty))
        })
        .unzip();
    quote! {
        /// Stand-in for the labels of a family whose declaration has errors.
        #[allow(missing_docs)]
        #vis struct #refs {
            #( pub #params: ::only1mcp_obs::metrics::promql::LabelRef<#types>, )*
        }

        impl #ty {
            /// Stand-in: the family's declaration has errors.
            pub fn promql(&self) -> ::only1mcp_obs::metrics::promql::Metric<::only1mcp_obs::#series> {
                ::core::unreachable!()
            }

            /// Stand-in: the family's declaration has errors.
            pub fn label_refs(&self) -> #refs {
                ::core::unreachable!()
            }
        }
    }
}

/// The type of each parameter, and a generic parameter for each label that did not parse.
fn parameters(labels: &[StubLabel]) -> (Vec<syn::Ident>, Vec<TokenStream>) {
    let mut generics = Vec::new();
    let types = labels
        .iter()
        .enumerate()
        .map(|(i, label)| match label {
            StubLabel::Type(ty) => quote!(#ty),
            StubLabel::Inline(d) => {
                let ident = &d.ident;
                quote!(#ident)
            }
            StubLabel::Unknown => {
                let generic = format_ident!("__ObsLabel{}", i);
                generics.push(generic.clone());
                quote!(#generic)
            }
        })
        .collect();
    (generics, types)
}

/// The domain type with the methods and trait impls of a real dynamic domain.
fn dynamic(docs: &[syn::Attribute], vis: &syn::Visibility, ident: &syn::Ident) -> TokenStream {
    let label_value = label_value_stub(ident);
    quote! {
        #(#docs)*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #vis struct #ident(u32);

        /// Stand-ins: the domain's declaration has errors.
        #[allow(missing_docs)]
        impl #ident {
            pub const OVERFLOW: Self = Self(0);
            pub fn new(_: &str) -> Self { ::core::unreachable!() }
            pub fn lookup(_: &str) -> ::core::option::Option<Self> { ::core::unreachable!() }
            pub fn as_str(self) -> &'static str { ::core::unreachable!() }
            pub fn is_overflow(self) -> bool { ::core::unreachable!() }
        }

        impl ::core::convert::From<&str> for #ident {
            fn from(_: &str) -> Self { ::core::unreachable!() }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::unreachable!()
            }
        }

        #label_value
    }
}
