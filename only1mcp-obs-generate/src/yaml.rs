//! A small YAML writer for the generated files: block style, every string double-quoted (JSON
//! escaping is valid YAML), keys in the order given.

use serde_json::Value;

/// Renders `value` as a YAML document.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        other => other.to_string(),
    }
}

/// Whether a string keeps its exact value as a `|-` literal block: no trailing whitespace on any
/// line, no leading blank or indented first line, no tabs or other control characters.
fn literal_safe(text: &str) -> bool {
    !text.starts_with([' ', '\n'])
        && !text.ends_with('\n')
        && text.lines().all(|l| !l.ends_with(' '))
        && !text.chars().any(|c| c.is_control() && c != '\n')
}

fn is_block(value: &Value) -> bool {
    matches!(value, Value::Array(a) if !a.is_empty())
        || matches!(value, Value::Object(o) if !o.is_empty())
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '/');
    if plain {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

fn write_value(value: &Value, indent: usize, out: &mut String, in_list: bool) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                // The first key of a list item follows the dash on the same line.
                if !(in_list && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&key(k));
                out.push(':');
                if let Some(text) = v.as_str().filter(|t| t.contains('\n') && literal_safe(t)) {
                    // Multi-line text (PromQL, descriptions) as a literal block, as people write it.
                    out.push_str(" |-\n");
                    for line in text.lines() {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str(line);
                        out.push('\n');
                    }
                } else if is_block(v) {
                    out.push('\n');
                    let child = if matches!(v, Value::Array(_)) {
                        indent
                    } else {
                        indent + 2
                    };
                    write_value(v, child, out, false);
                } else {
                    out.push(' ');
                    out.push_str(&scalar(v));
                    out.push('\n');
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                if is_block(item) {
                    if matches!(item, Value::Object(_)) {
                        write_value(item, indent + 2, out, true);
                    } else {
                        out.push('\n');
                        write_value(item, indent + 2, out, false);
                    }
                } else {
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}
