//! Label values and HELP text survive the text exposition format whatever they contain, read
//! back by an independent parser of the format's escaping rules.

use only1mcp_obs::metrics::text::{Sample, Writer, escape_help};
use proptest::prelude::*;

/// One sample line read back: name, labels, value text.
type Line = (String, Vec<(String, String)>, String);

/// Reads one sample line back.
fn parse_line(line: &str) -> Result<Line, String> {
    let brace = line.find(['{', ' ']).ok_or("no name end")?;
    let name = line[..brace].to_owned();
    let mut rest = &line[brace..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest.find("=\"").ok_or("no =\"")?;
            let label = rest[..eq].to_owned();
            let mut chars = rest[eq + 2..].char_indices();
            let mut value = String::new();
            let end = loop {
                match chars.next().ok_or("unterminated value")? {
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => return Err(format!("bad escape \\{other}")),
                    },
                    (i, '"') => break i,
                    (_, '\n') => return Err("raw newline in value".into()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((label, value));
            rest = &rest[eq + 2 + end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or("no space before value")?
        .to_owned();
    Ok((name, labels, value))
}

fn unescape_help(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn label_values_round_trip(a in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
                               b in "[\\\\\"\n{},= ]{1,12}") {
        let mut page = String::new();
        let labels = [("first", a.as_str()), ("second", b.as_str())];
        Writer::new(&mut page).sample(Sample { name: "x_total", suffix: "", labels: &labels, le: None, value: 3.0, exemplar: None });
        prop_assert_eq!(page.matches('\n').count(), 1, "one line per sample");
        let (name, parsed, value) = parse_line(page.trim_end_matches('\n')).map_err(TestCaseError::fail)?;
        prop_assert_eq!(name, "x_total");
        prop_assert_eq!(value, "3");
        prop_assert_eq!(parsed, vec![("first".to_owned(), a), ("second".to_owned(), b)]);
    }

    #[test]
    fn help_text_round_trips(help in any::<String>()) {
        let mut out = String::new();
        escape_help(&help, &mut out);
        prop_assert!(!out.contains('\n'));
        prop_assert_eq!(unescape_help(&out), help);
    }
}
