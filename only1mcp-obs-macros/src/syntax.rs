//! Parsing helpers shared by the macros: options given at most once, unknown words answered with
//! the known ones, and lists that recover from a bad element so that one compile reports every
//! syntax error and the rest of the input still parses.

use crate::ctxt::{Ctxt, Reported};
use crate::text::nearest;
use proc_macro2::{Span, TokenTree};
use syn::parse::ParseStream;
use syn::{Token, braced, bracketed, parenthesized};

/// Parses a comma-separated list one element at a time. A bad element's error is recorded and
/// parsing resumes after the next comma; the element's slot holds the proof of that error.
pub(crate) fn comma_list<T>(
    cx: &mut Ctxt,
    input: ParseStream<'_>,
    mut element: impl FnMut(&mut Ctxt, ParseStream<'_>) -> syn::Result<T>,
) -> Vec<Result<T, Reported>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let parsed = element(cx, input).and_then(|value| {
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            Ok(value)
        });
        match parsed {
            Ok(value) => out.push(Ok(value)),
            Err(error) => {
                out.push(Err(cx.push(error)));
                skip(input, true);
            }
        }
    }
    out
}

/// Skips tokens up to and including the next comma of this group (or all of them).
fn skip(input: ParseStream<'_>, stop_after_comma: bool) {
    let skipped = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            if stop_after_comma && matches!(&tree, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
        }
        Ok(((), rest))
    });
    // The step above never fails: it only moves the cursor forward.
    debug_assert!(skipped.is_ok());
}

/// Skips tokens until the next `{ .. }` group (which stays in the stream) or the end.
pub(crate) fn skip_to_brace(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(syn::token::Brace) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// Runs `parse` on the contents of a group; on failure, skips what it left so that syn does not
/// report the leftover tokens a second time.
fn whole_group<T>(
    content: ParseStream<'_>,
    parse: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    let result = parse(content);
    if result.is_err() {
        skip(content, false);
    }
    result
}

/// Parses the `[ .. ]` group next in `input`; returns the group's span and what `parse` made.
pub(crate) fn in_brackets<T>(
    input: ParseStream<'_>,
    parse: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<(Span, T)> {
    let content;
    let span = bracketed!(content in input).span.join();
    Ok((span, whole_group(&content, parse)?))
}

/// Parses the `{ .. }` group next in `input`; returns the group's span and what `parse` made.
pub(crate) fn in_braces<T>(
    input: ParseStream<'_>,
    parse: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<(Span, T)> {
    let content;
    let span = braced!(content in input).span.join();
    Ok((span, whole_group(&content, parse)?))
}

/// Parses the `( .. )` group next in `input`; returns what `parse` made.
pub(crate) fn in_parens<T>(
    input: ParseStream<'_>,
    parse: impl FnOnce(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    let content;
    parenthesized!(content in input);
    whole_group(&content, parse)
}

/// Stores an option's value, refusing a second occurrence with an error on the repeated key.
pub(crate) fn set_once<T>(slot: &mut Option<T>, key: &syn::Ident, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate option `{key}`: give each option at most once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// An "unknown option" error on the next token, suggesting the nearest known option.
pub(crate) fn unknown_option(input: ParseStream<'_>, known: &[&str]) -> syn::Error {
    unknown_word(input, "option", known)
}

/// An "unknown WHAT" error on the next token, suggesting the nearest known word.
pub(crate) fn unknown_word(input: ParseStream<'_>, what: &str, known: &[&str]) -> syn::Error {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match input
        .fork()
        .call(<syn::Ident as syn::ext::IdentExt>::parse_any)
    {
        Ok(ident) => {
            let word = ident.to_string();
            let hint = nearest(&word, known)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            syn::Error::new(
                ident.span(),
                format!("unknown {what} `{word}`: expected one of {list}{hint}"),
            )
        }
        Err(_) => input.error(format!("expected {what}: one of {list}")),
    }
}
