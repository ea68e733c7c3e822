//! Log formatting: JSON lines carrying the OpenTelemetry trace and span ids, and redacted field
//! formatting for every format.

use super::redact::{REDACTED, Redactor};
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use std::fmt::{self, Write as _};
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The trace and span ids of the current OpenTelemetry context, as hex.
fn current_ids() -> Option<(String, String)> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        (
            crate::hex::trace_id(sc.trace_id()),
            crate::hex::span_id(sc.span_id()),
        )
    })
}

/// Which redactor a formatter applies: the one of the [`Runtime`](crate::runtime::Runtime) in
/// effect when each line is written (what [`layers`](super::layers) uses, so a line follows
/// the configuration installed last), or a fixed one.
#[derive(Debug, Clone)]
pub enum Redaction {
    /// The runtime's, read for each line.
    Current,
    /// This one, always.
    Fixed(Arc<Redactor>),
}

impl From<Arc<Redactor>> for Redaction {
    fn from(redactor: Arc<Redactor>) -> Self {
        Redaction::Fixed(redactor)
    }
}

impl Redaction {
    /// The fields of `record`, redacted, as a JSON map.
    fn collect(
        &self,
        record: impl FnOnce(&mut Redacting<'_, Map<String, Value>>),
    ) -> Map<String, Value> {
        let run = |redactor: &Redactor| Redacting::run(redactor, Map::new(), record);
        match self {
            Redaction::Fixed(redactor) => run(redactor),
            Redaction::Current => crate::runtime::with(|rt| run(&rt.redactor)),
        }
    }
}

/// Where the redacting visitor puts each field: strings already redacted (a secret field's
/// value of any type arrives as the redaction marker), other values as they are.
trait FieldOut {
    fn text(&mut self, name: &'static str, value: &str);
    fn i64(&mut self, name: &'static str, value: i64);
    fn u64(&mut self, name: &'static str, value: u64);
    fn f64(&mut self, name: &'static str, value: f64);
    fn bool(&mut self, name: &'static str, value: bool);
}

/// The one field visitor of every format: it redacts, and `out` lays the fields out.
struct Redacting<'a, O> {
    redactor: &'a Redactor,
    out: O,
}

impl<'a, O: FieldOut> Redacting<'a, O> {
    /// `out` with the fields `record` visits.
    fn run(redactor: &'a Redactor, out: O, record: impl FnOnce(&mut Self)) -> O {
        let mut visitor = Redacting { redactor, out };
        record(&mut visitor);
        visitor.out
    }

    /// Whether `field` is a secret, whose value is replaced whatever its type.
    fn secret(&mut self, field: &Field) -> bool {
        let secret = self.redactor.is_secret_field(field.name());
        if secret {
            self.out.text(field.name(), REDACTED);
        }
        secret
    }
}

impl<O: FieldOut> Visit for Redacting<'_, O> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.secret(field) {
            let value = self.redactor.redact(value);
            self.out.text(field.name(), &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.secret(field) {
            self.out.i64(field.name(), value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.secret(field) {
            self.out.u64(field.name(), value);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.secret(field) {
            self.out.f64(field.name(), value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.secret(field) {
            self.out.bool(field.name(), value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_str(field, &value.to_string());
    }
}

/// Fields as a JSON map (the text formats and span fields).
impl FieldOut for Map<String, Value> {
    fn text(&mut self, name: &'static str, value: &str) {
        self.insert(name.to_owned(), Value::from(value));
    }

    fn i64(&mut self, name: &'static str, value: i64) {
        self.insert(name.to_owned(), Value::from(value));
    }

    fn u64(&mut self, name: &'static str, value: u64) {
        self.insert(name.to_owned(), Value::from(value));
    }

    fn f64(&mut self, name: &'static str, value: f64) {
        self.insert(name.to_owned(), Value::from(value));
    }

    fn bool(&mut self, name: &'static str, value: bool) {
        self.insert(name.to_owned(), Value::from(value));
    }
}

/// Formats fields with secrets redacted: as a JSON object (for the JSON format) or as
/// `key=value` pairs (for the pretty and compact formats).
#[derive(Debug, Clone)]
pub struct RedactedFields {
    redactor: Redaction,
    json: bool,
}

impl RedactedFields {
    /// JSON-object fields.
    pub fn json(redactor: impl Into<Redaction>) -> Self {
        RedactedFields {
            redactor: redactor.into(),
            json: true,
        }
    }

    /// `key=value` fields.
    pub fn text(redactor: impl Into<Redaction>) -> Self {
        RedactedFields {
            redactor: redactor.into(),
            json: false,
        }
    }

    fn collect<R: RecordFields>(&self, fields: R) -> Map<String, Value> {
        self.redactor.collect(|visitor| fields.record(visitor))
    }

    fn write(&self, writer: &mut Writer<'_>, map: Map<String, Value>) -> fmt::Result {
        if self.json {
            return write!(writer, "{}", Value::Object(map));
        }
        let mut first = true;
        for (key, value) in map {
            if !first {
                writer.write_char(' ')?;
            }
            first = false;
            match (key.as_str(), value) {
                ("message", Value::String(s)) => write!(writer, "{s}")?,
                (_, Value::String(s)) => write!(writer, "{key}={s:?}")?,
                (_, other) => write!(writer, "{key}={other}")?,
            }
        }
        Ok(())
    }
}

impl<'writer> FormatFields<'writer> for RedactedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let map = self.collect(fields);
        self.write(&mut writer, map)
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut map = match serde_json::from_str::<Value>(&current.fields) {
            Ok(Value::Object(map)) if self.json => map,
            _ if self.json => Map::new(),
            _ => {
                let added = self.collect(fields);
                if !current.fields.is_empty() && !added.is_empty() {
                    current.fields.push(' ');
                }
                let mut writer = current.as_writer();
                return self.write(&mut writer, added);
            }
        };
        map.extend(self.collect(fields));
        current.fields.clear();
        let mut writer = current.as_writer();
        self.write(&mut writer, map)
    }
}

/// An event's fields as JSON text, redacted: the message apart, the others as the members of
/// an object (without its braces).
#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    rest: String,
}

impl JsonFields {
    fn of(event: &Event<'_>, redactor: &Redactor) -> JsonFields {
        Redacting::run(redactor, JsonFields::default(), |visitor| {
            event.record(visitor)
        })
    }

    /// Starts the member `name` and returns where its value goes.
    fn member(&mut self, name: &str) -> &mut String {
        if name == "message" {
            return self.message.insert(String::new());
        }
        let rest = &mut self.rest;
        if !rest.is_empty() {
            rest.push(',');
        }
        let _ = json_str(rest, name);
        rest.push(':');
        rest
    }

    fn number(&mut self, name: &str, value: impl fmt::Display) {
        let _ = write!(self.member(name), "{value}");
    }
}

/// An event's fields written straight as JSON text.
impl FieldOut for JsonFields {
    fn text(&mut self, name: &'static str, value: &str) {
        let _ = json_str(self.member(name), value);
    }

    fn i64(&mut self, name: &'static str, value: i64) {
        self.number(name, value);
    }

    fn u64(&mut self, name: &'static str, value: u64) {
        self.number(name, value);
    }

    fn f64(&mut self, name: &'static str, value: f64) {
        // As serde_json writes it (`1.0`, not `1`); not finite: `null`.
        match serde_json::Number::from_f64(value) {
            Some(number) => self.number(name, number),
            None => self.number(name, "null"),
        }
    }

    fn bool(&mut self, name: &'static str, value: bool) {
        self.number(name, value);
    }
}

/// `value` as a JSON string, quotes included.
fn json_str(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut plain = 0;
    for (i, b) in value.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.write_str(&value[plain..i])?;
        if escape.is_empty() {
            write!(out, "\\u{b:04x}")?;
        } else {
            out.write_str(escape)?;
        }
        plain = i + 1;
    }
    out.write_str(&value[plain..])?;
    out.write_char('"')
}

/// The event formats, every field redacted, ending with the OpenTelemetry trace and span ids of
/// the current context when there are some:
/// - `json`: one JSON object per line: `timestamp`, `level`, `target`, `message`, `fields`,
///   `trace_id`, `span_id`, and the `tracing` spans in scope;
/// - `compact`: one line per event (development);
/// - `pretty`: fields, source location and spans on their own lines (development).
#[derive(Debug, Clone)]
pub struct EventFormat {
    redactor: Redaction,
    layout: Layout,
}

/// How an [`EventFormat`] lays out an event's head, each span in scope and its tail.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Json,
    Text { pretty: bool },
}

impl EventFormat {
    /// One JSON object per line.
    pub fn json(redactor: impl Into<Redaction>) -> Self {
        Self::with(redactor, Layout::Json)
    }

    /// One line per event.
    pub fn compact(redactor: impl Into<Redaction>) -> Self {
        Self::with(redactor, Layout::Text { pretty: false })
    }

    /// Several lines per event.
    pub fn pretty(redactor: impl Into<Redaction>) -> Self {
        Self::with(redactor, Layout::Text { pretty: true })
    }

    fn with(redactor: impl Into<Redaction>, layout: Layout) -> Self {
        EventFormat {
            redactor: redactor.into(),
            layout,
        }
    }

    /// Timestamp, level, target, message, fields (and the trace ids), written straight into the
    /// line buffer: no map is built per event.
    fn json_head(&self, writer: &mut Writer<'_>, event: &Event<'_>) -> fmt::Result {
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(writer)?;
        let meta = event.metadata();
        write!(writer, "\",\"level\":\"{}\",\"target\":", meta.level())?;
        json_str(writer, meta.target())?;
        let fields = match &self.redactor {
            Redaction::Fixed(redactor) => JsonFields::of(event, redactor),
            Redaction::Current => crate::runtime::with(|rt| JsonFields::of(event, &rt.redactor)),
        };
        if let Some(message) = &fields.message {
            write!(writer, ",\"message\":{message}")?;
        }
        if !fields.rest.is_empty() {
            write!(writer, ",\"fields\":{{{}}}", fields.rest)?;
        }
        if let Some((trace_id, span_id)) = current_ids() {
            write!(
                writer,
                ",\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\""
            )?;
        }
        Ok(())
    }

    /// Timestamp, level, target, message, then each field (and the source location if pretty).
    fn text_head(&self, writer: &mut Writer<'_>, event: &Event<'_>, pretty: bool) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = self.redactor.collect(|visitor| event.record(visitor));
        let message = match fields.remove("message") {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let sep = text_separator(pretty);
        if pretty {
            writer.write_str("  ")?;
        }
        SystemTime.format_time(writer)?;
        write!(writer, " {:>5} {}: {message}", meta.level(), meta.target())?;
        for (key, value) in &fields {
            write!(writer, "{sep}{key}={}", text_value(value))?;
        }
        if pretty && let (Some(file), Some(line)) = (meta.file(), meta.line()) {
            write!(writer, "{sep}at {file}:{line}")?;
        }
        Ok(())
    }
}

impl Layout {
    /// The span at `index` (from the root) in scope, with its formatted `fields`.
    fn span(self, writer: &mut Writer<'_>, index: usize, name: &str, fields: &str) -> fmt::Result {
        match self {
            Layout::Json => {
                writer.write_str(if index == 0 { ",\"spans\":[" } else { "," })?;
                writer.write_str("{\"name\":")?;
                json_str(writer, name)?;
                // The span's fields, formatted once when it was made as a JSON object.
                let inner = fields.strip_prefix('{').and_then(|f| f.strip_suffix('}'));
                if let Some(inner) = inner.filter(|f| !f.is_empty()) {
                    write!(writer, ",{inner}")?;
                }
                writer.write_char('}')
            }
            Layout::Text { pretty } => {
                write!(writer, "{}in {name}", text_separator(pretty))?;
                if fields.is_empty() {
                    return Ok(());
                }
                write!(writer, "{{{fields}}}")
            }
        }
    }

    /// Ends the line, after `spans` spans.
    fn tail(self, writer: &mut Writer<'_>, spans: usize) -> fmt::Result {
        match self {
            Layout::Json if spans > 0 => writer.write_str("]}\n"),
            Layout::Json => writer.write_str("}\n"),
            Layout::Text { pretty } => {
                if let Some((trace_id, span_id)) = current_ids() {
                    let sep = text_separator(pretty);
                    write!(writer, "{sep}trace_id={trace_id} span_id={span_id}")?;
                }
                writeln!(writer)
            }
        }
    }
}

fn text_separator(pretty: bool) -> &'static str {
    if pretty { "\n    " } else { " " }
}

fn text_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

impl<S, N> FormatEvent<S, N> for EventFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        match self.layout {
            Layout::Json => self.json_head(&mut writer, event)?,
            Layout::Text { pretty } => self.text_head(&mut writer, event, pretty)?,
        }
        let mut spans = 0;
        for span in ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
        {
            let extensions = span.extensions();
            let fields = extensions
                .get::<FormattedFields<N>>()
                .map_or("", |f| f.fields.as_str());
            self.layout.span(&mut writer, spans, span.name(), fields)?;
            spans += 1;
        }
        self.layout.tail(&mut writer, spans)
    }
}
