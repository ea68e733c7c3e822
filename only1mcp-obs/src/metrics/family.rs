//! A metric family's dense, lazily allocated series table (its descriptor is in `desc`).

use super::cell::{Point, Series};
use super::desc::{FamilyDesc, series_per_label_set};
use super::text::Writer;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Most labels a family can have (checked by `metrics!`).
pub(crate) const MAX_LABELS: usize = 16;

/// Storage of one family: a slot per label combination, each allocated on first use.
#[doc(hidden)]
#[derive(Debug)]
pub struct Family<S> {
    desc: &'static FamilyDesc,
    size: usize,
    slots: OnceLock<Box<[OnceLock<Box<S>>]>>,
    overflow: [AtomicU64; MAX_LABELS],
}

impl<S: Series> Family<S> {
    pub const fn new(desc: &'static FamilyDesc, size: usize) -> Self {
        Family {
            desc,
            size,
            slots: OnceLock::new(),
            overflow: [const { AtomicU64::new(0) }; MAX_LABELS],
        }
    }

    fn slots(&self) -> &[OnceLock<Box<S>>] {
        self.slots
            .get_or_init(|| (0..self.size.max(1)).map(|_| OnceLock::new()).collect())
    }

    /// The series at a dense index computed by the generated `labels` method.
    #[inline]
    pub fn series(&'static self, index: usize) -> &'static S {
        let slots = self.slots();
        // The index is below `size` by construction; clamp rather than panic if a hand-written
        // `LabelValue` breaks that contract.
        let slot = &slots[index.min(slots.len() - 1)];
        slot.get_or_init(|| Box::new(S::new(self.desc)))
    }

    /// Counts a label resolution that fell to its domain's overflow value.
    #[cold]
    pub fn record_overflow(&self, position: usize) {
        if let Some(counter) = self.overflow.get(position) {
            counter.fetch_add(1, Relaxed);
        }
    }

    /// Calls `f` with the labels and the series of every label set in use.
    fn each_series(&self, mut f: impl FnMut(&[(&'static str, &'static str)], &S)) {
        let Some(slots) = self.slots.get() else {
            return;
        };
        let mut labels = Vec::with_capacity(self.desc.labels.len());
        for (index, slot) in slots.iter().enumerate() {
            if let Some(series) = slot.get()
                && self.label_values(index, &mut labels)
            {
                f(&labels, series);
            }
        }
    }

    /// Decodes a dense index into label values (`None` if a dynamic value is not known).
    fn label_values(&self, mut index: usize, out: &mut Vec<(&'static str, &'static str)>) -> bool {
        out.clear();
        for label in self.desc.labels.iter().rev() {
            let card = label.domain.cardinality().max(1);
            match label.domain.value_at(index % card) {
                Some(value) => out.push((label.name, value)),
                None => return false,
            }
            index /= card;
        }
        out.reverse();
        true
    }
}

/// Receives each series of a family: its labels (name, value) and its value.
#[doc(hidden)]
pub type Visitor<'a> = dyn FnMut(&[(&'static str, &'static str)], Point) + 'a;

/// A family as the registry sees it.
#[doc(hidden)]
pub trait Collect: Sync {
    fn desc(&self) -> &'static FamilyDesc;
    fn encode(&self, out: &mut Writer<'_>);
    /// Calls `visit` with the labels and value of every series in use.
    fn visit(&self, visit: &mut Visitor<'_>);
    /// Overflow counts per label position.
    fn overflow_count(&self, position: usize) -> u64;
}

impl<S: Series> Collect for Family<S> {
    fn desc(&self) -> &'static FamilyDesc {
        self.desc
    }

    fn encode(&self, out: &mut Writer<'_>) {
        out.header(self.desc.name, self.desc.help, self.desc.kind.as_str());
        self.each_series(|labels, series| series.encode(self.desc, labels, out));
    }

    fn visit(&self, visit: &mut Visitor<'_>) {
        self.each_series(|labels, series| visit(labels, series.point()));
    }

    fn overflow_count(&self, position: usize) -> u64 {
        self.overflow.get(position).map_or(0, |c| c.load(Relaxed))
    }
}

/// The product of label domain sizes, saturating.
#[doc(hidden)]
pub const fn series_count(cardinalities: &[usize]) -> usize {
    let mut product = 1usize;
    let mut i = 0;
    while i < cardinalities.len() {
        product = product.saturating_mul(cardinalities[i]);
        i += 1;
    }
    product
}

/// Fails compilation when a family may put more series on the page than its budget: the label
/// domains' sizes multiplied together, times the series per label set of a histogram
/// (`bounds` is `Some(bucket bounds)` for a histogram).
#[doc(hidden)]
pub const fn check_budget(
    name: &str,
    factors: &[(&str, usize)],
    bounds: Option<usize>,
    budget: usize,
) {
    let mut cards = [0usize; MAX_LABELS];
    let mut i = 0;
    while i < factors.len() && i < MAX_LABELS {
        cards[i] = factors[i].1;
        i += 1;
    }
    let per_set = match bounds {
        Some(n) => series_per_label_set(true, n),
        None => 1,
    };
    let product = series_count(cards.split_at(i).0).saturating_mul(per_set);
    if product <= budget {
        return;
    }
    let mut msg = ConstMessage::new();
    msg.push("metric `");
    msg.push(name);
    msg.push("` may have ");
    msg.push_usize(product);
    msg.push(" series (");
    let mut i = 0;
    while i < factors.len() {
        if i > 0 {
            msg.push(" x ");
        }
        msg.push(factors[i].0);
        msg.push(" ");
        msg.push_usize(factors[i].1);
        i += 1;
    }
    if factors.is_empty() {
        msg.push("one label set");
    }
    if let Some(n) = bounds {
        msg.push(" label sets x ");
        msg.push_usize(per_set);
        msg.push(" series each: ");
        msg.push_usize(n);
        msg.push(" buckets, `+Inf`, `_sum`, `_count`");
    }
    msg.push("), more than its cardinality budget of ");
    msg.push_usize(budget);
    msg.push(
        ": bound a label's domain more tightly, drop a label, or raise the budget with `budget: N`",
    );
    panic!("{}", msg.as_str());
}

/// A message built at compile time (const fns cannot use `format!`).
struct ConstMessage {
    buf: [u8; 1024],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            buf: [0; 1024],
            len: 0,
        }
    }

    const fn push(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn push_usize(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
    }

    const fn as_str(&self) -> &str {
        match std::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(s) => s,
            // Only ASCII is pushed (names are validated); keep a message if that ever changes.
            Err(_) => "metric exceeds its cardinality budget",
        }
    }
}
