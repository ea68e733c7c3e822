//! The catalogue's schema, reviewed as a snapshot: changing a metric means reviewing this diff
//! (`cargo insta review`).

use only1mcp_obs::metrics::{DomainDesc, DomainKind, FamilyDesc, families};
use serde_json::{Map, Value, json};

/// The domain's name as labels refer to it; records its definition in `domains`.
fn domain(d: &DomainDesc, domains: &mut Map<String, Value>) -> String {
    let definition = match &d.kind {
        DomainKind::Closed {
            values,
            error_values,
        } => json!({ "closed": values, "error_values": error_values }),
        DomainKind::Dynamic {
            max,
            overflow,
            max_len,
            ..
        } => {
            json!({ "dynamic": { "max": max, "max_len": max_len, "overflow": overflow } })
        }
        DomainKind::Optional(inner) => return format!("Option<{}>", domain(inner, domains)),
        DomainKind::Catalogue => json!({ "catalogue": "registered metric and label names" }),
    };
    domains.insert(
        d.name.to_owned(),
        json!({ "doc": d.doc, "values": definition }),
    );
    d.name.to_owned()
}

fn family(d: &FamilyDesc, domains: &mut Map<String, Value>) -> Value {
    json!({
        "name": d.name,
        "kind": d.kind.as_str(),
        "unit": d.unit,
        "help": d.help,
        "labels": d.labels.iter().map(|l| json!({
            "name": l.name,
            "domain": domain(l.domain, domains),
            "high_cardinality_reason": l.high_cardinality_reason,
        })).collect::<Vec<_>>(),
        "buckets": d.buckets,
        "budget": d.budget,
        "objectives": d.objectives.iter().map(|o| format!("{o:?}")).collect::<Vec<_>>(),
        "max_series": d.max_series(),
    })
}

#[test]
fn catalogue_schema() {
    let mut domains = Map::new();
    let families: Vec<Value> = families()
        .into_iter()
        .map(|d| family(d, &mut domains))
        .collect();
    insta::assert_yaml_snapshot!(
        "catalogue",
        json!({ "families": families, "domains": domains })
    );
}

#[test]
fn every_family_is_within_its_budget() {
    for d in families() {
        assert!(
            d.max_series() <= d.budget,
            "{} may have {} series, budget {}",
            d.name,
            d.max_series(),
            d.budget
        );
    }
}
