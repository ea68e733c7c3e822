//! Error collection shared by every macro: one invocation reports all its errors in one compile.

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;
use std::thread;

/// Collects the errors of one macro invocation.
///
/// A `Ctxt` must be consumed by [`check`](Ctxt::check) or [`finish`](Ctxt::finish): dropping
/// it unchecked panics, so no error can be collected and then lost.
pub(crate) struct Ctxt {
    /// `None` once checked.
    errors: Option<Vec<syn::Error>>,
}

/// Proof that an error was recorded in a [`Ctxt`]: only recording one makes it, so a rule that
/// returns `Err(Reported)` cannot reject its input without saying why.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reported(());

/// A position in the list of errors, to ask whether a rule recorded any since.
#[derive(Clone, Copy)]
pub(crate) struct Mark(usize);

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: Some(Vec::new()),
        }
    }

    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) -> Reported {
        if let Some(errors) = &mut self.errors {
            errors.push(error);
        }
        Reported(())
    }

    /// Records an error on the given tokens (their whole range).
    pub(crate) fn error_spanned(
        &mut self,
        tokens: impl ToTokens,
        message: impl Display,
    ) -> Reported {
        self.push(syn::Error::new_spanned(tokens, message))
    }

    /// Records an error at one span.
    pub(crate) fn error_at(&mut self, span: Span, message: impl Display) -> Reported {
        self.push(syn::Error::new(span, message))
    }

    /// The current position, for [`since`](Ctxt::since).
    pub(crate) fn mark(&self) -> Mark {
        Mark(self.errors.as_ref().map_or(0, Vec::len))
    }

    /// `Err` if an error was recorded after `mark`.
    pub(crate) fn since(&self, mark: Mark) -> Result<(), Reported> {
        if self.mark().0 > mark.0 {
            Err(Reported(()))
        } else {
            Ok(())
        }
    }

    /// Every recorded error, combined into one; `Ok` if there were none.
    pub(crate) fn check(mut self) -> syn::Result<()> {
        let mut errors = self.errors.take().unwrap_or_default().into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                errors.for_each(|e| first.combine(e));
                Err(first)
            }
        }
    }

    /// The value built by the rules if no error was recorded, else every recorded error.
    pub(crate) fn finish<T>(self, built: Result<T, Reported>) -> syn::Result<T> {
        self.check()?;
        match built {
            Ok(value) => Ok(value),
            // `Reported` is only made by recording an error, and `check` found none.
            Err(Reported(())) => unreachable!("a rule reported an error that was not recorded"),
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !thread::panicking() && self.errors.is_some() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;
    use proc_macro2::Span;

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn an_unchecked_context_panics() {
        let mut cx = Ctxt::new();
        cx.error_at(Span::call_site(), "lost");
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn an_unchecked_context_panics_even_without_errors() {
        let _cx = Ctxt::new();
    }

    #[test]
    fn check_combines_every_error_in_order() {
        let mut cx = Ctxt::new();
        let mark = cx.mark();
        assert!(cx.since(mark).is_ok());
        cx.error_at(Span::call_site(), "first");
        cx.error_at(Span::call_site(), "second");
        assert!(cx.since(mark).is_err());
        let messages: Vec<String> = match cx.check() {
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
            Ok(()) => Vec::new(),
        };
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn finish_returns_the_value_when_nothing_was_recorded() {
        let cx = Ctxt::new();
        assert_eq!(cx.finish(Ok::<_, super::Reported>(3)).ok(), Some(3));
    }
}
