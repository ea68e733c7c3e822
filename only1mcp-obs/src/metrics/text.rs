//! The Prometheus text exposition format, version 0.0.4.

use std::fmt::Write as _;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One line of the exposition page.
#[doc(hidden)]
#[derive(Debug)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub suffix: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
    pub le: Option<f64>,
    pub value: f64,
}

/// Appends exposition lines to a string.
#[doc(hidden)]
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut String,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut String) -> Self {
        Writer { out }
    }

    /// `# HELP` and `# TYPE` lines.
    pub fn header(&mut self, name: &str, help: &str, kind: &str) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_help(help, self.out);
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(kind);
        self.out.push('\n');
    }

    /// One sample line. Labels whose value is empty are absent in Prometheus, so they are left out.
    pub fn sample(&mut self, sample: Sample<'_>) {
        self.out.push_str(sample.name);
        self.out.push_str(sample.suffix);
        let mut first = true;
        let le = sample.le.map(format_float);
        let le_pair = le.as_deref().map(|v| ("le", v));
        for (name, value) in sample.labels.iter().copied().chain(le_pair) {
            if value.is_empty() {
                continue;
            }
            self.out.push(if first { '{' } else { ',' });
            first = false;
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_label_value(value, self.out);
            self.out.push('"');
        }
        if !first {
            self.out.push('}');
        }
        self.out.push(' ');
        format_value(sample.value, self.out);
        self.out.push('\n');
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Escapes HELP text: backslash and line feed.
pub fn escape_help(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Formats a sample value or bucket bound. Whole numbers keep a `.0` (`1.0`, not `1`), which is
/// the form Prometheus 3 normalises `le` labels to, so bucket matchers work on 2.x and 3.x alike.
pub fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        s
    }
}

/// Formats a sample value: whole numbers without a fraction (`42`), others in shortest form.
pub fn format_value(value: f64, out: &mut String) {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        out.push_str(&format_float(value));
    }
}
