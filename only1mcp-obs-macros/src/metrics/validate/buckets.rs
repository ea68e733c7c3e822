//! Rules on a family's bucket bounds, and the numeric literals they and objectives are made of.

use crate::ctxt::{Ctxt, Reported};
use crate::metrics::model::{Bound, Kind, Unit};
use crate::metrics::parse::{Buckets, Declaration};
use syn::spanned::Spanned;

/// Rule: histograms have buckets, other kinds none.
pub(super) fn bounds(
    cx: &mut Ctxt,
    kind: Kind,
    decl: &Declaration,
    unit: Result<Option<Unit>, Reported>,
) -> Result<Vec<Bound>, Reported> {
    match (&decl.buckets, kind) {
        (None, Kind::Histogram) => Err(cx.error_at(
            decl.brace,
            format!(
                "histogram `{}` needs `buckets: [..]`, finite upper bounds in increasing order",
                decl.name.value()
            ),
        )),
        (Some(buckets), Kind::Histogram) => histogram_bounds(cx, buckets, unit),
        (Some(buckets), kind) => Err(cx.error_at(
            buckets.span,
            format!("a {} has no buckets: remove `buckets`", kind.as_str()),
        )),
        (None, _) => Ok(Vec::new()),
    }
}

/// Rule: a non-empty, strictly increasing list of finite numbers; negative only for units that
/// can be negative (nothing is said about signs when the unit is unknown).
fn histogram_bounds(
    cx: &mut Ctxt,
    buckets: &Buckets,
    unit: Result<Option<Unit>, Reported>,
) -> Result<Vec<Bound>, Reported> {
    if buckets.bounds.is_empty() {
        return Err(cx.error_at(
            buckets.span,
            "empty `buckets`: give at least one finite upper bound (`+Inf` is always added)",
        ));
    }
    let mark = cx.mark();
    let parsed: Vec<(f64, &syn::Expr)> = buckets
        .bounds
        .iter()
        .filter_map(|expr| bound(cx, expr).ok().map(|value| (value, expr)))
        .collect();
    if let Ok(unit) = unit {
        check_signs(cx, &parsed, unit);
    }
    check_order(cx, &parsed);
    cx.since(mark)?;
    Ok(parsed
        .into_iter()
        .map(|(value, expr)| Bound {
            value,
            span: expr.span(),
        })
        .collect())
}

fn check_signs(cx: &mut Ctxt, bounds: &[(f64, &syn::Expr)], unit: Option<Unit>) {
    if unit.is_some_and(Unit::can_be_negative) {
        return;
    }
    for (value, expr) in bounds.iter().filter(|(v, _)| *v < 0.0) {
        match unit {
            Some(unit) => cx.error_spanned(
                expr,
                format!(
                    "negative bucket bound {value}: a value in {} is never negative",
                    unit.as_str()
                ),
            ),
            None => cx.error_spanned(
                expr,
                format!("negative bucket bound {value}: this quantity is never negative"),
            ),
        };
    }
}

fn check_order(cx: &mut Ctxt, bounds: &[(f64, &syn::Expr)]) {
    for pair in bounds.windows(2) {
        let [(previous, _), (value, expr)] = pair else {
            continue;
        };
        if value == previous {
            cx.error_spanned(
                expr,
                format!("duplicate bucket bound {value}: each bound must appear once"),
            );
        } else if value < previous {
            cx.error_spanned(
                expr,
                format!(
                    "bucket bound {value} comes after {previous}: list bounds in strictly increasing order"
                ),
            );
        }
    }
}

/// Rule: a bucket bound (or latency threshold) is a finite numeric literal, possibly negated.
pub(super) fn bound(cx: &mut Ctxt, expr: &syn::Expr) -> Result<f64, Reported> {
    match literal_number(expr) {
        Some(value) if value.is_finite() => Ok(value),
        Some(_) => Err(cx.error_spanned(
            expr,
            "bucket bound is not finite: bounds must be finite (`+Inf` is always added)",
        )),
        None => {
            let text = written(expr);
            if text.contains("NAN") || text.contains("INFINITY") {
                Err(cx.error_spanned(
                    expr,
                    format!("`{text}` is not a bucket bound: NaN and infinities are not bucket bounds (`+Inf` is always added)"),
                ))
            } else {
                Err(cx.error_spanned(
                    expr,
                    format!("`{text}` is not a bucket bound: write bounds as numeric literals such as `0.25`"),
                ))
            }
        }
    }
}

/// The expression as written, without the spaces token printing adds.
pub(super) fn written(expr: &syn::Expr) -> String {
    quote::quote!(#expr).to_string().replace(' ', "")
}

/// The value of a numeric literal, possibly negated (and possibly infinite when it overflows);
/// `None` for any other expression.
pub(super) fn literal_number(expr: &syn::Expr) -> Option<f64> {
    let (negative, inner) = match expr {
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => (true, &**expr),
        other => (false, other),
    };
    let value = match inner {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().ok(),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<f64>().ok(),
        _ => None,
    }?;
    Some(if negative { -value } else { value })
}
