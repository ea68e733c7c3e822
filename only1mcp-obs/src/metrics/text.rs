//! The exposition formats: Prometheus text 0.0.4, and OpenMetrics 1.0.0 (which adds exemplars
//! and `# EOF`), chosen by the scraper's `Accept` header.

use super::exemplar::Exemplar;
use std::fmt::Write as _;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of the OpenMetrics exposition format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text, version 0.0.4.
    Text,
    /// OpenMetrics text, version 1.0.0, with exemplars.
    OpenMetrics,
}

impl Format {
    /// The format a scraper asks for in its `Accept` header: OpenMetrics when it is listed
    /// (Prometheus lists it first), else text.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let accepts_openmetrics = accept.is_some_and(|accept| {
            accept.split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f64>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
            })
        });
        if accepts_openmetrics {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// Its `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// One line of the exposition page.
#[doc(hidden)]
#[derive(Debug)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub suffix: &'a str,
    pub labels: &'a [(&'a str, &'a str)],
    pub le: Option<f64>,
    pub value: f64,
    /// Shown in OpenMetrics only.
    pub exemplar: Option<Exemplar>,
}

impl<'a> Sample<'a> {
    /// The line `name{labels} value`: no suffix, no `le`, no exemplar.
    pub fn of(name: &'a str, labels: &'a [(&'a str, &'a str)], value: f64) -> Self {
        Sample {
            name,
            suffix: "",
            labels,
            le: None,
            value,
            exemplar: None,
        }
    }
}

/// Appends exposition lines to a string.
#[doc(hidden)]
#[derive(Debug)]
pub struct Writer<'a> {
    out: &'a mut String,
    format: Format,
}

impl<'a> Writer<'a> {
    /// A writer of the text format.
    pub fn new(out: &'a mut String) -> Self {
        Self::with_format(out, Format::Text)
    }

    /// A writer of `format`.
    pub fn with_format(out: &'a mut String, format: Format) -> Self {
        Writer { out, format }
    }

    /// Ends the page (`# EOF` in OpenMetrics).
    pub fn finish(&mut self) {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
    }

    /// `# HELP` and `# TYPE` lines. In OpenMetrics a counter family is named without its
    /// `_total`, which stays on the samples.
    pub fn header(&mut self, name: &str, help: &str, kind: &str) {
        let name = match self.format {
            Format::OpenMetrics if kind == "counter" => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        match self.format {
            Format::Text => escape_help(help, self.out),
            Format::OpenMetrics => escape_label_value(help, self.out),
        }
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
        if let (Format::OpenMetrics, Some(e)) = (self.format, sample.exemplar) {
            let _ = write!(self.out, " # {{trace_id=\"{}\"}} ", e.trace_id);
            format_value(e.value, self.out);
            let _ = write!(self.out, " {:.3}", e.timestamp);
        }
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
