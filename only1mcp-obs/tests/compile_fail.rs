//! Every compile-time rule of `metrics!`, `#[derive(LabelValue)]` and `#[mcp_instrumented]` has
//! one failing case in `tests/ui/fail`, with the expected message in the `.stderr` next to it
//! (regenerate with `TRYBUILD=overwrite cargo test -p only1mcp-obs --test compile_fail`).
//! `every_message_has_a_case` keeps it so: it reads the messages out of the macros' sources.

use std::fs;
use std::path::Path;

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// The calls that make an error in the macros' sources; the message is the first string literal
/// among their arguments (write messages as literals there, `format!` templates included).
const ERROR_CALLS: &[&str] = &[
    "error_at(",
    "error_spanned(",
    "Error::new(",
    "Error::new_spanned(",
    ".error(",
];

/// Every error message of the macros appears in the expected output of some failing case: each
/// constant part of its template, in order, on one line of a `.stderr`.
#[test]
fn every_message_has_a_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut templates = Vec::new();
    for file in rust_files(&root.join("../only1mcp-obs-macros/src")) {
        let source = fs::read_to_string(&file).expect("read a macro source");
        // Unit tests sit at the end of a file; their errors are not the macros'.
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        templates.extend(messages(source));
    }
    assert!(
        templates.len() >= 60,
        "found only {} messages: did the way errors are made change?",
        templates.len()
    );
    let mut lines = Vec::new();
    for entry in fs::read_dir(root.join("tests/ui/fail")).expect("read tests/ui/fail") {
        let path = entry.expect("list tests/ui/fail").path();
        if path.extension().is_some_and(|e| e == "stderr") {
            let text = fs::read_to_string(&path).expect("read a .stderr");
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    let missing: Vec<String> = templates
        .iter()
        .filter(|parts| !lines.iter().any(|line| contains_in_order(line, parts)))
        .map(|parts| parts.join("{..}"))
        .collect();
    assert!(
        missing.is_empty(),
        "messages with no case in tests/ui/fail:\n  {}",
        missing.join("\n  ")
    );
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read a macro source directory") {
        let path = entry.expect("list a macro source directory").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The constant parts of each message template made in `source`.
fn messages(source: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for call in ERROR_CALLS {
        for (at, _) in source.match_indices(call) {
            // `fn error_at(` defines the call; a call without a literal forwards a message.
            if source[..at].ends_with("fn ") {
                continue;
            }
            let arguments = arguments(&source[at + call.len()..]);
            if let Some(template) = first_literal(arguments) {
                out.push(constant_parts(&template));
            }
        }
    }
    out
}

/// The text up to the parenthesis that closes the call.
fn arguments(rest: &str) -> &str {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '(' | '[' | '{') => depth += 1,
            (false, _, ')' | ']' | '}') if depth == 0 => return &rest[..i],
            (false, _, ')' | ']' | '}') => depth -= 1,
            (false, _, _) => {}
        }
    }
    rest
}

/// The value of the first string literal in `text`.
fn first_literal(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let mut value = String::new();
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                '\n' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// A template split at its `{..}` placeholders (`{{` and `}}` are braces).
fn constant_parts(template: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                chars.next();
                parts.last_mut().expect("one part at least").push(c);
            }
            ('{', _) => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                parts.push(String::new());
            }
            _ => parts.last_mut().expect("one part at least").push(c),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn contains_in_order(line: &str, parts: &[String]) -> bool {
    let mut rest = line;
    for part in parts {
        match rest.find(part.as_str()) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}
