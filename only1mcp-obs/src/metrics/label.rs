//! Label domains: the bounded sets a label's values come from.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{OnceLock, PoisonError, RwLock};

/// A value of a bounded label domain.
///
/// Implemented by `#[derive(LabelValue)]` on fieldless enums (closed domains), by the
/// `dynamic Name { .. }` items of [`metrics!`](macro@crate::metrics) (bounded dynamic domains), and
/// for `Option<T>` (a label that may be absent). Each value maps to a dense index below
/// [`CARDINALITY`](LabelValue::CARDINALITY), which is how a family finds a series without
/// hashing a string. Implement it by hand only if `index` stays below `CARDINALITY`.
pub trait LabelValue: Copy + Send + Sync + 'static {
    /// Describes the domain: its name and its values.
    const DOMAIN: &'static DomainDesc;
    /// How many distinct values the domain has, the overflow value included.
    const CARDINALITY: usize;
    /// This value's position in the domain, below [`CARDINALITY`](LabelValue::CARDINALITY).
    fn index(self) -> usize;
    /// Whether this is a dynamic domain's overflow value.
    fn is_overflow(self) -> bool {
        false
    }
    /// The label value written on the exposition page (`""` means the label is absent).
    fn as_str(self) -> &'static str;
}

/// A closed label domain some of whose values mean failure (`#[label(error)]`), such as a
/// request status. `#[derive(LabelValue)]` implements it when a variant is so marked; alert
/// policies select failures through it ([`LabelRef::failed`](crate::metrics::promql::LabelRef::failed)),
/// so a policy cannot ask for the failures of a domain that marks none.
pub trait MarksFailure: LabelValue {
    /// The values that mean failure, in declaration order.
    const FAILURES: &'static [Self];
}

/// Describes a label domain, for the exposition encoder, the schema and generated dashboards.
#[derive(Debug)]
pub struct DomainDesc {
    /// The Rust type's name, such as `McpMethod`.
    pub name: &'static str,
    /// The type's doc comment.
    pub doc: &'static str,
    /// The values.
    pub kind: DomainKind,
}

/// The values of a label domain.
#[derive(Debug)]
pub enum DomainKind {
    /// A closed set, fixed at compile time.
    Closed {
        /// Every value, in index order.
        values: &'static [&'static str],
        /// The values that mark a failed outcome (`#[label(error)]`), used by generated alerts.
        error_values: &'static [&'static str],
    },
    /// A bounded dynamic set: values are admitted at run time up to `max`, then map to `overflow`.
    Dynamic {
        /// Most distinct values kept.
        max: usize,
        /// The value that stands for everything past `max`.
        overflow: &'static str,
        /// Longest value admitted, in bytes; longer values map to `overflow`.
        max_len: usize,
        /// Looks a value up by index (`None` while the slot is still free).
        value_at: fn(usize) -> Option<&'static str>,
    },
    /// `Option<T>`: absent (`None`, index 0) or a value of the inner domain.
    Optional(&'static DomainDesc),
    /// The names of the registered families and their labels (used by the overflow counter).
    Catalogue,
}

impl DomainDesc {
    /// Number of distinct values, the overflow value included.
    pub fn cardinality(&self) -> usize {
        match &self.kind {
            DomainKind::Closed { values, .. } => values.len(),
            DomainKind::Dynamic { max, .. } => max + 1,
            DomainKind::Optional(inner) => inner.cardinality() + 1,
            DomainKind::Catalogue => 0,
        }
    }

    /// The value at `index`, or `None` if a dynamic slot is still free. `Some("")` is an absent label.
    pub fn value_at(&self, index: usize) -> Option<&'static str> {
        match &self.kind {
            DomainKind::Closed { values, .. } => values.get(index).copied(),
            DomainKind::Dynamic {
                max,
                overflow,
                value_at,
                ..
            } => {
                if index == *max {
                    Some(overflow)
                } else {
                    value_at(index)
                }
            }
            DomainKind::Optional(inner) => match index {
                0 => Some(""),
                i => inner.value_at(i - 1),
            },
            DomainKind::Catalogue => None,
        }
    }

    /// A short description for docs and the schema snapshot, e.g. `ServerId: dynamic(max 64, overflow "_other")`.
    pub fn summary(&self) -> String {
        match &self.kind {
            DomainKind::Closed {
                values,
                error_values,
            } => {
                let mut s = format!("{}: closed {:?}", self.name, values);
                if !error_values.is_empty() {
                    s.push_str(&format!(", errors {error_values:?}"));
                }
                s
            }
            DomainKind::Dynamic {
                max,
                overflow,
                max_len,
                ..
            } => {
                format!(
                    "{}: dynamic(max {max}, max_len {max_len}, overflow {overflow:?})",
                    self.name
                )
            }
            DomainKind::Optional(inner) => format!("Option<{}>", inner.summary()),
            DomainKind::Catalogue => "catalogue names".to_owned(),
        }
    }
}

impl<T: LabelValue> LabelValue for Option<T> {
    const DOMAIN: &'static DomainDesc = &DomainDesc {
        name: "Option",
        doc: "",
        kind: DomainKind::Optional(T::DOMAIN),
    };
    const CARDINALITY: usize = T::CARDINALITY + 1;

    #[inline]
    fn index(self) -> usize {
        match self {
            None => 0,
            Some(v) => v.index() + 1,
        }
    }

    #[inline]
    fn is_overflow(self) -> bool {
        self.is_some_and(LabelValue::is_overflow)
    }

    fn as_str(self) -> &'static str {
        self.map_or("", LabelValue::as_str)
    }
}

/// The value table of a bounded dynamic domain. Memory is bounded by `max * max_len` bytes
/// whatever arrives: values are admitted until `max`, then everything maps to the overflow index.
///
/// Lookups of admitted values take no lock: values are published in an append-only table that
/// readers scan (small domains) or find through a read-locked index (large ones).
#[derive(Debug)]
pub struct Interner {
    max: u32,
    overflow: &'static str,
    max_len: usize,
    slots: OnceLock<Box<[OnceLock<&'static str>]>>,
    published: AtomicUsize,
    index: RwLock<BTreeMap<&'static str, u32>>,
}

/// Up to this many admitted values, a lookup scans the table instead of taking the index's lock.
const SCAN_LIMIT: usize = 32;

impl Interner {
    /// An empty table admitting `max` values of at most `max_len` bytes.
    pub const fn new(max: u32, overflow: &'static str, max_len: usize) -> Self {
        Interner {
            max,
            overflow,
            max_len,
            slots: OnceLock::new(),
            published: AtomicUsize::new(0),
            index: RwLock::new(BTreeMap::new()),
        }
    }

    fn slots(&self) -> &[OnceLock<&'static str>] {
        self.slots
            .get_or_init(|| (0..self.max).map(|_| OnceLock::new()).collect())
    }

    fn find(&self, value: &str) -> Option<u32> {
        let published = self.published.load(Acquire);
        if published <= SCAN_LIMIT {
            let slots = self.slots();
            (0..published)
                .find(|&i| slots[i].get().is_some_and(|v| *v == value))
                .map(|i| i as u32)
        } else {
            self.index
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(value)
                .copied()
        }
    }

    /// The index of `value` if it was admitted already; never admits it.
    pub fn lookup(&self, value: &str) -> Option<u32> {
        if value.is_empty() || value.len() > self.max_len || value == self.overflow {
            return None;
        }
        self.find(value)
    }

    /// The index of `value`, admitting it if there is room; the overflow index otherwise.
    /// Empty values, values longer than `max_len` and the overflow value itself map to overflow.
    pub fn resolve(&self, value: &str) -> u32 {
        if value.is_empty() || value.len() > self.max_len || value == self.overflow {
            return self.max;
        }
        if let Some(index) = self.find(value) {
            return index;
        }
        if self.published.load(Acquire) >= self.max as usize {
            return self.max;
        }
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&found) = index.get(value) {
            return found;
        }
        let next = self.published.load(Acquire);
        if next >= self.max as usize {
            return self.max;
        }
        // Leaked on purpose: at most `max` values of `max_len` bytes, kept for the process's life
        // so that series handles can borrow them as `&'static str`.
        let stored: &'static str = Box::leak(value.to_owned().into_boxed_str());
        let _ = self.slots()[next].set(stored);
        index.insert(stored, next as u32);
        self.published.store(next + 1, Release);
        next as u32
    }

    /// The value at `index`, the overflow value for the overflow index.
    pub fn value(&self, index: u32) -> &'static str {
        self.value_at(index as usize).unwrap_or(self.overflow)
    }

    /// The value at `index`, or `None` for a slot still free.
    pub fn value_at(&self, index: usize) -> Option<&'static str> {
        if index == self.max as usize {
            return Some(self.overflow);
        }
        self.slots.get()?.get(index)?.get().copied()
    }

    /// How many values have been admitted so far.
    pub fn len(&self) -> usize {
        self.published.load(Acquire)
    }

    /// Whether no value has been admitted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
