//! The `LabelValue` impl of closed domains, and the stand-in impl of a rejected domain.

use super::{ClosedDomain, ClosedValue};
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn derive(domain: &ClosedDomain) -> TokenStream {
    closed_impl(&domain.ident, &domain.doc, &domain.values, false)
}

/// The `LabelValue` impl of a closed domain. `define` also emits the enum itself (inline lists).
pub(crate) fn closed_impl(
    ident: &syn::Ident,
    doc: &str,
    values: &[ClosedValue],
    define: bool,
) -> TokenStream {
    let name = ident.to_string();
    let n = values.len();
    let variants: Vec<_> = values.iter().map(|v| &v.variant).collect();
    let strs: Vec<_> = values.iter().map(|v| &v.value).collect();
    let errors = values.iter().filter(|v| v.is_error).map(|v| &v.value);
    let indices = 0..n;
    let definition = define.then(|| enum_definition(ident, doc, values));
    let failures = marks_failure(ident, values);
    quote! {
        #definition
        impl ::only1mcp_obs::LabelValue for #ident {
            const DOMAIN: &'static ::only1mcp_obs::DomainDesc = &::only1mcp_obs::DomainDesc {
                name: #name,
                doc: #doc,
                kind: ::only1mcp_obs::DomainKind::Closed {
                    values: &[#(#strs),*],
                    error_values: &[#(#errors),*],
                },
            };
            const CARDINALITY: usize = #n;
            #[inline]
            fn index(self) -> usize {
                match self { #( Self::#variants => #indices, )* }
            }
            #[inline]
            fn as_str(self) -> &'static str {
                match self { #( Self::#variants => #strs, )* }
            }
        }
        impl #ident {
            /// Every value of this domain, in declaration order.
            pub const ALL: [Self; #n] = [#(Self::#variants),*];
        }
        #failures
    }
}

/// `MarksFailure`, for a domain with values marked `#[label(error)]`: alert policies select
/// failures through it, and a domain without such values has no way to.
fn marks_failure(ident: &syn::Ident, values: &[ClosedValue]) -> Option<TokenStream> {
    let failures: Vec<_> = values
        .iter()
        .filter(|v| v.is_error)
        .map(|v| &v.variant)
        .collect();
    (!failures.is_empty()).then(|| {
        quote! {
            impl ::only1mcp_obs::MarksFailure for #ident {
                const FAILURES: &'static [Self] = &[#(Self::#failures),*];
            }
        }
    })
}

/// The enum of an inline list, one documented variant per value.
fn enum_definition(ident: &syn::Ident, doc: &str, values: &[ClosedValue]) -> TokenStream {
    let variants = values.iter().map(|v| &v.variant);
    let docs = values
        .iter()
        .map(|v| format!("The label value `{}`.", v.value));
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum #ident { #( #[doc = #docs] #variants, )* }
    }
}

/// The derive's stand-in for a rejected domain: a `LabelValue` impl and `ALL`.
pub(super) fn derive_stub(ident: &syn::Ident) -> TokenStream {
    let label_value = label_value_stub(ident);
    quote! {
        #label_value
        impl #ident {
            /// Stand-in: the domain's declaration has errors.
            pub const ALL: [Self; 0] = [];
        }
    }
}

/// A `LabelValue` impl for a type whose declaration has errors; never run (the crate does not
/// compile), it keeps uses of the type as a label from adding errors of their own.
pub(crate) fn label_value_stub(ident: &syn::Ident) -> TokenStream {
    let name = ident.to_string();
    quote! {
        impl ::only1mcp_obs::LabelValue for #ident {
            const DOMAIN: &'static ::only1mcp_obs::DomainDesc = &::only1mcp_obs::DomainDesc {
                name: #name,
                doc: "",
                kind: ::only1mcp_obs::DomainKind::Closed {
                    values: &[],
                    error_values: &[],
                },
            };
            const CARDINALITY: usize = 1;
            fn index(self) -> usize {
                ::core::unreachable!()
            }
            fn as_str(self) -> &'static str {
                ::core::unreachable!()
            }
        }
    }
}
