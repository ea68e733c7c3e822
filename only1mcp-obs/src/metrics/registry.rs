//! The registry: every family declared with `metrics!` anywhere in the binary, gathered at link
//! time. There is no `register` call to forget.

use super::cell::Point;
use super::desc::{FamilyDesc, LabelDesc, MetricKind};
use super::family::Collect;
use super::label::{DomainDesc, DomainKind};
use super::text::{Format, Sample, Writer};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use slice::FAMILIES;

// linkme places the elements with `#[link_section]`, which the `unsafe_code` lint flags.
#[allow(unsafe_code)]
mod slice {
    use super::{Collect, OverflowFamily};

    /// Every family of the binary. `metrics!` adds to it; nothing else needs to.
    #[doc(hidden)]
    #[linkme::distributed_slice]
    pub static FAMILIES: [&'static dyn Collect];

    #[linkme::distributed_slice(FAMILIES)]
    static OVERFLOW: &'static dyn Collect = &OverflowFamily;
}

/// Families sorted by name, first declaration kept when a name is declared twice.
fn sorted() -> &'static [&'static dyn Collect] {
    static SORTED: OnceLock<Vec<&'static dyn Collect>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let mut by_name: BTreeMap<&str, &'static dyn Collect> = BTreeMap::new();
        for family in FAMILIES.iter().copied() {
            by_name.entry(family.desc().name).or_insert(family);
        }
        by_name.into_values().collect()
    })
}

/// Every registered family, sorted by name (first declaration of a name kept).
pub(crate) fn collectors() -> &'static [&'static dyn Collect] {
    sorted()
}

/// The descriptors of every registered family, sorted by name.
pub fn families() -> Vec<&'static FamilyDesc> {
    sorted().iter().map(|f| f.desc()).collect()
}

/// The descriptor of the family named `name`.
pub fn family(name: &str) -> Option<&'static FamilyDesc> {
    sorted().iter().map(|f| f.desc()).find(|d| d.name == name)
}

/// A problem with the registered catalogue as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// Two crates of the binary declare the same metric name (within one crate it does not compile).
    DuplicateName {
        /// The metric name.
        name: &'static str,
        /// The declarations, as `file:line`.
        declared_at: Vec<String>,
    },
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::DuplicateName { name, declared_at } => {
                write!(
                    f,
                    "metric `{name}` is declared more than once: {}; only the first is exported",
                    declared_at.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for RegistryError {}

/// Checks the registered catalogue: every metric name is declared once across all crates.
/// Call it from a test; `/metrics` keeps serving the first declaration of a duplicated name.
pub fn check() -> Result<(), Vec<RegistryError>> {
    let mut by_name: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for family in FAMILIES.iter() {
        let d = family.desc();
        by_name
            .entry(d.name)
            .or_default()
            .push(format!("{}:{}", d.file, d.line));
    }
    let errors: Vec<_> = by_name
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(name, declared_at)| RegistryError::DuplicateName { name, declared_at })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Renders every registered family in the text exposition format.
///
/// ```
/// let page = only1mcp_obs::metrics::encode_text();
/// assert!(page.contains("# TYPE only1mcp_mcp_requests_total counter"));
/// ```
pub fn encode_text() -> String {
    encode(Format::Text)
}

/// Renders every registered family in `format`; OpenMetrics carries exemplars.
///
/// ```
/// use only1mcp_obs::metrics::{encode, text::Format};
/// let page = encode(Format::OpenMetrics);
/// assert!(page.contains("# TYPE only1mcp_mcp_requests counter"));
/// assert!(page.ends_with("# EOF\n"));
/// ```
pub fn encode(format: Format) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let mut writer = Writer::with_format(&mut out, format);
    for family in sorted() {
        family.encode(&mut writer);
    }
    writer.finish();
    out
}

static CATALOGUE: DomainDesc = DomainDesc {
    name: "Catalogue",
    doc: "The names of the registered families and of their labels.",
    kind: DomainKind::Catalogue,
};

static OVERFLOW_DESC: FamilyDesc = FamilyDesc {
    name: "only1mcp_obs_label_overflow_total",
    help: "Label resolutions that fell to the overflow value because a dynamic label domain was full, per metric and label.",
    kind: MetricKind::Counter,
    unit: None,
    labels: &[
        LabelDesc {
            name: "metric",
            domain: &CATALOGUE,
            high_cardinality_reason: None,
        },
        LabelDesc {
            name: "label",
            domain: &CATALOGUE,
            high_cardinality_reason: None,
        },
    ],
    buckets: &[],
    budget: 1000,
    objectives: &[],
    module_path: module_path!(),
    file: file!(),
    line: line!(),
};

/// `only1mcp_obs_label_overflow_total{metric,label}`: one series per dynamic label of every
/// family, read from the families' own counters, so counting an overflow never resolves a label.
struct OverflowFamily;

impl Collect for OverflowFamily {
    fn desc(&self) -> &'static FamilyDesc {
        &OVERFLOW_DESC
    }

    fn encode(&self, out: &mut Writer<'_>) {
        out.header(OVERFLOW_DESC.name, OVERFLOW_DESC.help, "counter");
        for family in sorted() {
            let d = family.desc();
            for (position, label) in d.labels.iter().enumerate() {
                if is_dynamic(label.domain) {
                    let labels = [("metric", d.name), ("label", label.name)];
                    let value = family.overflow_count(position) as f64;
                    out.sample(Sample::of(OVERFLOW_DESC.name, &labels, value));
                }
            }
        }
    }

    fn visit(&self, visit: &mut super::family::Visitor<'_>) {
        for family in sorted() {
            let d = family.desc();
            for (position, label) in d.labels.iter().enumerate() {
                if is_dynamic(label.domain) {
                    let value = family.overflow_count(position) as f64;
                    let point = Point::Counter {
                        value,
                        exemplar: None,
                    };
                    visit(&[("metric", d.name), ("label", label.name)], point);
                }
            }
        }
    }

    fn overflow_count(&self, _: usize) -> u64 {
        0
    }
}

fn is_dynamic(domain: &DomainDesc) -> bool {
    match domain.kind {
        DomainKind::Dynamic { .. } => true,
        DomainKind::Optional(inner) => is_dynamic(inner),
        _ => false,
    }
}
