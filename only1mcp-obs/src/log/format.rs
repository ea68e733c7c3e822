//! Log formatting: JSON lines carrying the OpenTelemetry trace and span ids, and redacted field
//! formatting for every format.

use super::redact::{REDACTED, Redactor};
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use std::fmt;
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
    fn collect(&self, record: impl FnOnce(&mut JsonVisitor<'_>)) -> Map<String, Value> {
        let run = |redactor: &Redactor| {
            let mut visitor = JsonVisitor {
                redactor,
                fields: Map::new(),
            };
            record(&mut visitor);
            visitor.fields
        };
        match self {
            Redaction::Fixed(redactor) => run(redactor),
            Redaction::Current => crate::runtime::with(|rt| run(&rt.redactor)),
        }
    }
}

/// Collects fields into a JSON map, redacting as it goes.
struct JsonVisitor<'a> {
    redactor: &'a Redactor,
    fields: Map<String, Value>,
}

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let value = if self.redactor.is_secret_field(field.name()) {
            Value::from(REDACTED)
        } else {
            value
        };
        self.fields.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let value = self.redactor.redact(value).into_owned();
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        let value = self.redactor.redact(&text).into_owned();
        self.put(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_str(field, &value.to_string());
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

/// One JSON object per line: `timestamp`, `level`, `target`, `message`, `fields`, the
/// OpenTelemetry `trace_id` and `span_id` of the current context, and the `tracing` spans in scope.
#[derive(Debug, Clone)]
pub struct JsonFormat {
    redactor: Redaction,
}

impl JsonFormat {
    /// A JSON formatter redacting with `redactor`.
    pub fn new(redactor: impl Into<Redaction>) -> Self {
        JsonFormat {
            redactor: redactor.into(),
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonFormat
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
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), Value::from(timestamp));
        line.insert(
            "level".into(),
            Value::from(event.metadata().level().as_str()),
        );
        line.insert("target".into(), Value::from(event.metadata().target()));
        let mut fields = self.redactor.collect(|visitor| event.record(visitor));
        if let Some(message) = fields.remove("message") {
            line.insert("message".into(), message);
        }
        if !fields.is_empty() {
            line.insert("fields".into(), Value::Object(fields));
        }
        if let Some((trace_id, span_id)) = current_ids() {
            line.insert("trace_id".into(), Value::from(trace_id));
            line.insert("span_id".into(), Value::from(span_id));
        }
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<Value> = scope
                .from_root()
                .map(|span| {
                    let mut entry = Map::new();
                    entry.insert("name".into(), Value::from(span.name()));
                    if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                        && let Ok(Value::Object(map)) =
                            serde_json::from_str::<Value>(&fields.fields)
                    {
                        entry.extend(map);
                    }
                    Value::Object(entry)
                })
                .collect();
            if !spans.is_empty() {
                line.insert("spans".into(), Value::Array(spans));
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// The development formats, with every field redacted: `compact` is one line per event,
/// `pretty` puts fields, source location and spans on their own lines. Both end with the
/// current trace id when there is one.
#[derive(Debug, Clone)]
pub struct TextFormat {
    redactor: Redaction,
    pretty: bool,
}

impl TextFormat {
    /// One line per event.
    pub fn compact(redactor: impl Into<Redaction>) -> Self {
        TextFormat {
            redactor: redactor.into(),
            pretty: false,
        }
    }

    /// Several lines per event.
    pub fn pretty(redactor: impl Into<Redaction>) -> Self {
        TextFormat {
            redactor: redactor.into(),
            pretty: true,
        }
    }
}

fn text_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

impl<S, N> FormatEvent<S, N> for TextFormat
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
        let meta = event.metadata();
        let mut fields = self.redactor.collect(|visitor| event.record(visitor));
        let message = match fields.remove("message") {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let sep = if self.pretty { "\n    " } else { " " };
        if self.pretty {
            writer.write_str("  ")?;
        }
        SystemTime.format_time(&mut writer)?;
        write!(writer, " {:>5} {}: {message}", meta.level(), meta.target())?;
        for (key, value) in &fields {
            write!(writer, "{sep}{key}={}", text_value(value))?;
        }
        if self.pretty
            && let (Some(file), Some(line)) = (meta.file(), meta.line())
        {
            write!(writer, "{sep}at {file}:{line}")?;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{sep}in {}", span.name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.fields.is_empty()
                {
                    write!(writer, "{{{}}}", fields.fields)?;
                }
            }
        }
        if let Some((trace_id, span_id)) = current_ids() {
            write!(writer, "{sep}trace_id={trace_id} span_id={span_id}")?;
        }
        writeln!(writer)
    }
}
