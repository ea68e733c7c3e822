//! Rules on service level objectives.

use super::buckets::{bound, literal_number, written};
use crate::ctxt::{Ctxt, Reported};
use crate::metrics::model::{Bound, Kind, Objective};
use crate::metrics::parse::{self, Declaration};

/// Rule: `availability(percent)` on counters; `latency(bound, percent)` on histograms.
pub(super) fn objectives(
    cx: &mut Ctxt,
    kind: Kind,
    decl: &Declaration,
    bounds: Result<&[Bound], Reported>,
) -> Result<Vec<Objective>, Reported> {
    let lowered: Vec<Result<Objective, Reported>> = decl
        .objectives
        .iter()
        .map(|objective| self::objective(cx, kind, decl, bounds, objective))
        .collect();
    lowered.into_iter().collect()
}

fn objective(
    cx: &mut Ctxt,
    kind: Kind,
    decl: &Declaration,
    bounds: Result<&[Bound], Reported>,
    objective: &parse::Objective,
) -> Result<Objective, Reported> {
    let word = &objective.kind;
    match (word.to_string().as_str(), objective.args.as_slice(), kind) {
        ("availability", [target], Kind::Counter) => Ok(Objective::Availability {
            target: percent(cx, target)?,
        }),
        ("latency", [threshold, target], Kind::Histogram) => {
            latency(cx, decl, bounds, threshold, target)
        }
        (name, _, kind) => Err(misused(cx, word, name, kind)),
    }
}

/// The error for an objective of the wrong arity, on the wrong kind, or unknown.
fn misused(cx: &mut Ctxt, word: &syn::Ident, name: &str, kind: Kind) -> Reported {
    match (name, kind) {
        ("availability", Kind::Counter) => cx.error_spanned(
            word,
            "`availability` takes one argument: the target percentage, e.g. `availability(99.9)`",
        ),
        ("latency", Kind::Histogram) => cx.error_spanned(
            word,
            "`latency` takes two arguments: a bucket bound in the family's unit and the target percentage, e.g. `latency(0.25, 99.0)`",
        ),
        ("availability", kind) => cx.error_spanned(
            word,
            format!(
                "an availability objective goes on a counter with a status label, not on a {}",
                kind.as_str()
            ),
        ),
        ("latency", kind) => cx.error_spanned(
            word,
            format!(
                "a latency objective goes on a histogram, not on a {}",
                kind.as_str()
            ),
        ),
        (other, _) => cx.error_spanned(
            word,
            format!("unknown objective `{other}`: expected `availability(percent)` or `latency(bound, percent)`"),
        ),
    }
}

/// Rule: the threshold is one of the family's bucket bounds (the SLI counts that bucket). When
/// the bounds themselves were rejected, nothing is said about membership.
fn latency(
    cx: &mut Ctxt,
    decl: &Declaration,
    bounds: Result<&[Bound], Reported>,
    threshold: &syn::Expr,
    target: &syn::Expr,
) -> Result<Objective, Reported> {
    let threshold_value = bound(cx, threshold);
    let target = percent(cx, target);
    let threshold_value = threshold_value?;
    let bounds = bounds?;
    if !bounds.iter().any(|b| b.value == threshold_value) {
        let list: Vec<String> = bounds.iter().map(|b| b.value.to_string()).collect();
        return Err(cx.error_spanned(
            threshold,
            format!(
                "latency threshold {threshold_value} is not a bucket bound of `{}`, so no series counts requests under it; \
                 use one of [{}] or add {threshold_value} to `buckets`",
                decl.name.value(),
                list.join(", ")
            ),
        ));
    }
    Ok(Objective::Latency {
        threshold: threshold_value,
        target: target?,
    })
}

/// Rule: a target is a percentage strictly between 0 and 100; the model keeps it as a fraction.
fn percent(cx: &mut Ctxt, expr: &syn::Expr) -> Result<f64, Reported> {
    match literal_number(expr) {
        Some(value) if value > 0.0 && value < 100.0 => Ok(value / 100.0),
        Some(value) => Err(cx.error_spanned(
            expr,
            format!("objective target {value} is not a percentage strictly between 0 and 100, e.g. `99.9`"),
        )),
        None => Err(cx.error_spanned(
            expr,
            format!(
                "objective target `{}` is not a number: write the percentage as a numeric literal, e.g. `99.9`",
                written(expr)
            ),
        )),
    }
}
