//! What a call's span records: attribute values bounded to the configured length, and the
//! fields an instrumented function adds.

use crate::log::REDACTED;
use crate::runtime::{self, Runtime};
use opentelemetry::{KeyValue, Value};
use std::borrow::Cow;

/// `value` cut to `max` bytes (`tracing.limits.max_attribute_length`) at a character
/// boundary, marked with `…`.
pub(crate) fn bounded(value: &str, max: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    Cow::Owned(cut(value, max))
}

/// The start of `value` that fits in `max` bytes with a final `…`.
fn cut(value: &str, max: usize) -> String {
    let mut end = max.saturating_sub('…'.len_utf8()).min(value.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end])
}

/// Span attributes recorded together: `fields(..value)` in
/// [`#[mcp_instrumented]`](crate::mcp_instrumented) records every attribute `value` records,
/// after the fields named one by one. Redaction and the length limit apply as to any field. A
/// server writes the attributes of the requests it receives once, and every handler spreads them.
///
/// ```
/// use only1mcp_obs::mcp_instrumented;
/// use only1mcp_obs::trace::{Fields, SpanFields};
///
/// /// The backend a call goes to, as the conventions name it.
/// struct Backend<'a> {
///     host: &'a str,
///     port: u16,
/// }
///
/// impl SpanFields for Backend<'_> {
///     fn record_fields(&self, fields: &mut Fields<'_>) {
///         fields.record("server.address", self.host);
///         fields.record("server.port", &self.port);
///         fields.record("network.transport", "tcp");
///     }
/// }
///
/// #[mcp_instrumented(method = "tools/call", target = tool, kind = client, fields(..*backend))]
/// async fn forward(backend: &Backend<'_>, tool: &str) -> Result<(), std::io::Error> {
///     Ok(())
/// }
/// # fn main() {}
/// ```
pub trait SpanFields {
    /// Records this value's attributes with [`Fields::record`] and its kin.
    fn record_fields(&self, fields: &mut Fields<'_>);
}

impl<T: SpanFields + ?Sized> SpanFields for &T {
    fn record_fields(&self, fields: &mut Fields<'_>) {
        (**self).record_fields(fields);
    }
}

/// Records the fields named in `#[mcp_instrumented(fields(..))]` on the call's span.
#[derive(Debug)]
pub struct Fields<'a> {
    pub(crate) span: &'a mut opentelemetry_sdk::trace::Span,
    pub(crate) runtime: &'a Runtime,
}

impl Fields<'_> {
    /// Records `name = value`; fields whose name matches a redaction pattern are redacted.
    pub fn record<T: ToAttribute + ?Sized>(&mut self, name: &'static str, value: &T) {
        use opentelemetry::trace::Span as _;
        if value.is_absent() {
            return;
        }
        let max = self.runtime.max_attribute_len;
        let value = if self.runtime.redactor.is_secret_field(name) {
            Value::from(REDACTED)
        } else {
            match value.to_attribute() {
                Value::String(s) if s.as_str().len() > max => {
                    Value::from(bounded(s.as_str(), max).into_owned())
                }
                other => other,
            }
        };
        self.span.set_attribute(KeyValue::new(name, value));
    }

    /// Records `name = value` formatted with `Display` (`fields(%value)`), like `tracing`'s `%`.
    pub fn record_display<T: std::fmt::Display + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.record_formatted(name, format_args!("{value}"));
    }

    /// Records `name = value` formatted with `Debug` (`fields(?value)`), like `tracing`'s `?`.
    pub fn record_debug<T: std::fmt::Debug + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.record_formatted(name, format_args!("{value:?}"));
    }

    /// Formats into at most the attribute length limit: a huge value is cut while it is being
    /// formatted, never formatted whole first. Secret-named fields are not formatted at all.
    fn record_formatted(&mut self, name: &'static str, args: std::fmt::Arguments<'_>) {
        use opentelemetry::trace::Span as _;
        let value = if self.runtime.redactor.is_secret_field(name) {
            REDACTED.to_owned()
        } else {
            bounded_format(args, self.runtime.max_attribute_len)
        };
        self.span.set_attribute(KeyValue::new(name, value));
    }
}

/// `args` formatted into at most `max` bytes, marked with `…` when cut: a huge value stops
/// being formatted at the limit instead of being formatted whole first.
pub(crate) fn bounded_format(args: std::fmt::Arguments<'_>, max: usize) -> String {
    let mut out = BoundedWriter {
        text: String::new(),
        room: max,
        cut: false,
    };
    // An error only means the limit was reached.
    let _ = std::fmt::write(&mut out, args);
    if out.cut {
        cut(&out.text, max)
    } else {
        out.text
    }
}

/// Keeps the first `room` bytes written (whole characters), then refuses the rest.
struct BoundedWriter {
    text: String,
    room: usize,
    cut: bool,
}

impl std::fmt::Write for BoundedWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let left = self.room.saturating_sub(self.text.len());
        if s.len() <= left {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = left;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        Err(std::fmt::Error)
    }
}

/// A value that can be recorded as a span attribute.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded as a span attribute",
    note = "record one of its fields, or convert it: `fields(name = value.to_string())`"
)]
pub trait ToAttribute {
    /// The attribute value.
    fn to_attribute(&self) -> Value;

    /// Whether there is nothing to record (`None`): the attribute is left out.
    fn is_absent(&self) -> bool {
        false
    }
}

macro_rules! int_attribute {
    ($($t:ty),*) => {$(
        impl ToAttribute for $t {
            fn to_attribute(&self) -> Value {
                Value::I64(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_attribute!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToAttribute for str {
    fn to_attribute(&self) -> Value {
        runtime::with(|rt| Value::from(rt.redactor.redact(self).into_owned()))
    }
}

impl ToAttribute for String {
    fn to_attribute(&self) -> Value {
        self.as_str().to_attribute()
    }
}

impl ToAttribute for bool {
    fn to_attribute(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToAttribute for f64 {
    fn to_attribute(&self) -> Value {
        Value::F64(*self)
    }
}

impl ToAttribute for serde_json::Value {
    fn to_attribute(&self) -> Value {
        match self {
            serde_json::Value::String(s) => s.to_attribute(),
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Value::F64(n.as_f64().unwrap_or(f64::NAN)), Value::I64),
            other => other.to_string().to_attribute(),
        }
    }
}

impl<T: ToAttribute + ?Sized> ToAttribute for &T {
    fn to_attribute(&self) -> Value {
        (**self).to_attribute()
    }

    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<T: ToAttribute> ToAttribute for Option<T> {
    fn to_attribute(&self) -> Value {
        match self {
            Some(v) => v.to_attribute(),
            None => Value::from(""),
        }
    }

    fn is_absent(&self) -> bool {
        self.as_ref().is_none_or(ToAttribute::is_absent)
    }
}
