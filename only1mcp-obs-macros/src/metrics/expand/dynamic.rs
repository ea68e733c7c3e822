//! The code of a bounded dynamic label domain: a `u32` newtype over a link-time interner.

use crate::metrics::model::Dynamic;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn dynamic(d: &Dynamic) -> TokenStream {
    let ty = type_item(d);
    let public = public_methods(d);
    let private = private_methods(d);
    let conversions = conversions(d);
    let label_value = label_value_impl(d);
    let ident = &d.ident;
    quote! {
        #ty

        impl #ident {
            #public
            #private
        }

        #conversions

        #label_value
    }
}

fn type_item(d: &Dynamic) -> TokenStream {
    let Dynamic {
        docs,
        vis,
        ident,
        max,
        overflow,
        max_len,
        ..
    } = d;
    let extra = format!(
        "Bounded dynamic label domain: at most {max} distinct values of up to {max_len} bytes; \
         anything past that maps to `\"{overflow}\"`."
    );
    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = #extra]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #vis struct #ident(u32);
    }
}

fn public_methods(d: &Dynamic) -> TokenStream {
    let max = d.max;
    quote! {
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
    }
}

/// The interner holding the admitted values, and its lookup by index for the descriptor.
fn private_methods(d: &Dynamic) -> TokenStream {
    let Dynamic {
        max,
        overflow,
        max_len,
        ..
    } = d;
    quote! {
        fn __obs_interner() -> &'static ::only1mcp_obs::__private::Interner {
            static INTERNER: ::only1mcp_obs::__private::Interner =
                ::only1mcp_obs::__private::Interner::new(#max, #overflow, #max_len);
            &INTERNER
        }

        fn __obs_value_at(index: usize) -> ::core::option::Option<&'static str> {
            Self::__obs_interner().value_at(index)
        }
    }
}

fn conversions(d: &Dynamic) -> TokenStream {
    let ident = &d.ident;
    quote! {
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
    }
}

fn label_value_impl(d: &Dynamic) -> TokenStream {
    let Dynamic {
        ident,
        help,
        max,
        overflow,
        max_len,
        ..
    } = d;
    let name = ident.to_string();
    let max_usize = *max as usize;
    quote! {
        impl ::only1mcp_obs::LabelValue for #ident {
            const DOMAIN: &'static ::only1mcp_obs::DomainDesc = &::only1mcp_obs::DomainDesc {
                name: #name,
                doc: #help,
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
