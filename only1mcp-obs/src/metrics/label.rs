//! Label domains: the bounded sets a label's values come from.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

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
#[derive(Debug)]
pub struct Interner {
    max: u32,
    overflow: &'static str,
    max_len: usize,
    state: RwLock<InternState>,
}

#[derive(Debug)]
struct InternState {
    by_value: BTreeMap<&'static str, u32>,
    by_index: Vec<&'static str>,
}

impl Interner {
    /// An empty table admitting `max` values of at most `max_len` bytes.
    pub const fn new(max: u32, overflow: &'static str, max_len: usize) -> Self {
        Interner {
            max,
            overflow,
            max_len,
            state: RwLock::new(InternState {
                by_value: BTreeMap::new(),
                by_index: Vec::new(),
            }),
        }
    }

    /// The index of `value`, admitting it if there is room; the overflow index otherwise.
    /// Empty values, values longer than `max_len` and the overflow value itself map to overflow.
    pub fn resolve(&self, value: &str) -> u32 {
        if value.is_empty() || value.len() > self.max_len || value == self.overflow {
            return self.max;
        }
        {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(&index) = state.by_value.get(value) {
                return index;
            }
            if state.by_index.len() >= self.max as usize {
                return self.max;
            }
        }
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&index) = state.by_value.get(value) {
            return index;
        }
        if state.by_index.len() >= self.max as usize {
            return self.max;
        }
        // Leaked on purpose: at most `max` values of `max_len` bytes, kept for the process's life
        // so that series handles can borrow them as `&'static str`.
        let stored: &'static str = Box::leak(value.to_owned().into_boxed_str());
        let index = state.by_index.len() as u32;
        state.by_index.push(stored);
        state.by_value.insert(stored, index);
        index
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
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_index
            .get(index)
            .copied()
    }

    /// How many values have been admitted so far.
    pub fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_index
            .len()
    }

    /// Whether no value has been admitted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
