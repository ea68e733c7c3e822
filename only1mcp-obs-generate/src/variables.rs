//! Dashboard variables: `backend`, `method` and `tool`, each a multi-value query variable over
//! the label values Prometheus has, applied to every query whose metric carries the label they
//! filter. Their "All" value, `.*`, also matches a series without the label (an optional label).

use crate::GenerateError;
use crate::promql::Family;
use only1mcp_obs::catalogue::{MCP_REQUESTS_TOTAL, MCP_SERVER_OPERATION_DURATION};
use only1mcp_obs::metrics::{FamilyDesc, families};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// The value of every variable when "All" is selected.
pub const ALL: &str = ".*";

/// A dashboard variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its name in queries (`$backend`).
    pub name: &'static str,
    /// Its label in Grafana.
    pub title: &'static str,
    /// The label names it filters, in whichever family has them.
    pub labels: &'static [&'static str],
    /// `label_values(..)` query that lists its values.
    pub values: String,
}

/// The variables, with their value queries taken from the declarations.
pub fn all() -> Result<Vec<Variable>, GenerateError> {
    let requests = Family(MCP_REQUESTS_TOTAL.descriptor());
    let operations = Family(MCP_SERVER_OPERATION_DURATION.descriptor());
    let values = |family: &Family, suffix: &str, label: &str| -> Result<String, GenerateError> {
        Ok(format!(
            "label_values({}, {})",
            family.series(suffix)?,
            family.label(label)?
        ))
    };
    Ok(vec![
        Variable {
            name: "backend",
            title: "Backend",
            labels: &["server_id"],
            values: values(&requests, "", "server_id")?,
        },
        Variable {
            name: "method",
            title: "Method",
            labels: &["method", "mcp_method_name"],
            values: values(&requests, "", "method")?,
        },
        Variable {
            name: "tool",
            title: "Tool",
            labels: &["gen_ai_tool_name"],
            values: values(&operations, "_count", "gen_ai_tool_name")?,
        },
    ])
}

/// The series names of every declared family (`_bucket`, `_count`, `_sum` for histograms).
fn series() -> HashMap<String, &'static FamilyDesc> {
    let mut out = HashMap::new();
    for desc in families() {
        out.insert(desc.name.to_owned(), desc);
        if !desc.buckets.is_empty() {
            for suffix in ["_bucket", "_count", "_sum"] {
                out.insert(format!("{}{suffix}", desc.name), desc);
            }
        }
    }
    out
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// The matchers (`label=~"$name"`) of the variables that filter a label of `desc`; their names
/// are added to `used`.
fn matchers(
    desc: &FamilyDesc,
    variables: &[Variable],
    used: &mut BTreeSet<&'static str>,
) -> Vec<String> {
    variables
        .iter()
        .filter_map(|v| {
            let label = v
                .labels
                .iter()
                .find(|l| desc.labels.iter().any(|d| d.name == **l))?;
            used.insert(v.name);
            Some(format!("{label}=~\"${}\"", v.name))
        })
        .collect()
}

/// `expr` with the variables' matchers added to every selector of a family that has their
/// labels, and the names of the variables it now uses.
pub fn scope(expr: &str, variables: &[Variable]) -> (String, BTreeSet<&'static str>) {
    let series = series();
    let bytes = expr.as_bytes();
    let (mut out, mut used) = (String::with_capacity(expr.len() + 64), BTreeSet::new());
    let (mut i, mut braces, mut quoted) = (0, 0usize, false);
    while i < bytes.len() {
        let b = bytes[i];
        let starts_name = !quoted
            && braces == 0
            && (b.is_ascii_alphabetic() || b == b'_' || b == b':')
            && (i == 0 || !is_name_char(bytes[i - 1]));
        if !starts_name {
            match b {
                b'"' => quoted = !quoted || bytes[i - 1] == b'\\',
                b'{' if !quoted => braces += 1,
                b'}' if !quoted => braces = braces.saturating_sub(1),
                _ => {}
            }
            let next = i + expr[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&expr[i..next]);
            i = next;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_name_char(bytes[i]) {
            i += 1;
        }
        out.push_str(&expr[start..i]);
        let Some(desc) = series.get(&expr[start..i]) else {
            continue;
        };
        let matchers = matchers(desc, variables, &mut used);
        if matchers.is_empty() {
            continue;
        }
        let rest = &expr[i..];
        let gap = rest.len() - rest.trim_start().len();
        if rest[gap..].starts_with('{') {
            // Merge into the selector that follows: `name{a="b"}` -> `name{x=~"$v",a="b"}`.
            out.push_str(&rest[..gap]);
            out.push('{');
            out.push_str(&matchers.join(","));
            i += gap + 1;
            if !expr[i..].trim_start().starts_with('}') {
                out.push(',');
            }
            braces += 1;
        } else {
            out.push('{');
            out.push_str(&matchers.join(","));
            out.push('}');
        }
    }
    (out, used)
}

/// `expr` with every variable at its "All" value, as Grafana sends it.
pub fn with_all(expr: &str, variables: &[Variable]) -> String {
    variables.iter().fold(expr.to_owned(), |e, v| {
        e.replace(&format!("${}", v.name), ALL)
    })
}

/// The Grafana definition of `variable`, over the `datasource` variable.
pub fn render(variable: &Variable) -> Value {
    json!({
        "name": variable.name,
        "label": variable.title,
        "type": "query",
        "datasource": { "type": "prometheus", "uid": "${datasource}" },
        "query": { "query": variable.values, "refId": variable.name },
        "refresh": 2,
        "includeAll": true,
        "multi": true,
        "allValue": ALL,
        "current": { "text": "All", "value": "$__all" },
        "options": [],
        "hide": 0,
        "sort": 1,
        "regex": "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_get_the_matchers_of_their_family() {
        let vars = all().expect("variables");
        let (scoped, used) = scope(
            "sum by (le, server_id) (rate(only1mcp_mcp_request_duration_seconds_bucket[5m])) / sum(rate(only1mcp_mcp_requests_total{status=\"error\"}[5m])) + only1mcp_memory_usage_bytes{type=\"resident\"}",
            &vars,
        );
        assert_eq!(
            scoped,
            "sum by (le, server_id) (rate(only1mcp_mcp_request_duration_seconds_bucket{server_id=~\"$backend\",method=~\"$method\"}[5m])) / sum(rate(only1mcp_mcp_requests_total{server_id=~\"$backend\",method=~\"$method\",status=\"error\"}[5m])) + only1mcp_memory_usage_bytes{type=\"resident\"}"
        );
        assert_eq!(used.into_iter().collect::<Vec<_>>(), ["backend", "method"]);
        let (scoped, _) = scope(
            "count(mcp_server_operation_duration_seconds_count{})",
            &vars,
        );
        assert_eq!(
            scoped,
            "count(mcp_server_operation_duration_seconds_count{mcp_method_name=~\"$method\",gen_ai_tool_name=~\"$tool\"})"
        );
        assert_eq!(
            with_all(&scoped, &vars),
            "count(mcp_server_operation_duration_seconds_count{mcp_method_name=~\".*\",gen_ai_tool_name=~\".*\"})"
        );
    }
}
