//! Error collection shared by every macro: report all errors of one invocation in one compile.

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;

/// Collects errors so that one compile reports all of them.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Option<syn::Error>,
}

impl Ctxt {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(error),
            None => self.errors = Some(error),
        }
    }

    pub(crate) fn error_spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn error_at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn check(self) -> syn::Result<()> {
        match self.errors {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
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

/// Converts `tools/call` or `cache_hit` into `ToolsCall` / `CacheHit`.
pub(crate) fn camel_case(value: &str) -> String {
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// Converts `ToolsCall` into `tools_call`.
pub(crate) fn snake_case(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Joins the text of `#[doc = "..."]` attributes into one line (HELP text is a single line),
/// trimming the leading space rustdoc adds.
pub(crate) fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value();
            lines.push(
                line.strip_prefix(' ')
                    .unwrap_or(&line)
                    .trim_end()
                    .to_owned(),
            );
        }
    }
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// An "unknown option" error on the next token, suggesting the nearest known option.
pub(crate) fn unknown_option(input: syn::parse::ParseStream<'_>, known: &[&str]) -> syn::Error {
    unknown_word(input, "option", known)
}

/// An "unknown WHAT" error on the next token, suggesting the nearest known word.
pub(crate) fn unknown_word(
    input: syn::parse::ParseStream<'_>,
    what: &str,
    known: &[&str],
) -> syn::Error {
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
