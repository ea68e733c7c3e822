//! The `tracing` bridge (cargo feature `tracing-bridge`): `tracing` spans opened inside an
//! instrumented call, by your code or by a dependency's `#[tracing::instrument]`, become child
//! spans of the call's MCP span, and `tracing` events become span events, exported on the same
//! pipeline. Field values go through the same redaction and length limit as `fields(..)`.
//!
//! Only what happens inside a call is bridged: a `tracing` span opened elsewhere would start a
//! trace of its own, so it is left to the logs. Events and spans below the bridge's level
//! (`INFO` by default) are skipped, since debug output of dependencies often carries request
//! bodies.
//!
//! [`Observability::install`](crate::Observability::install) adds the layer when the feature is
//! on; with a subscriber of your own, add [`layer`]:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//! let subscriber = tracing_subscriber::registry().with(only1mcp_obs::trace::bridge::layer());
//! # drop(subscriber);
//! ```

use super::fields::{bounded, bounded_format};
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use std::cell::RefCell;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

/// The bridge layer; see the [module](self) documentation.
#[derive(Debug, Clone, Copy)]
pub struct TracingBridge {
    level: LevelFilter,
}

/// The bridge, for spans and events at `INFO` and above.
pub fn layer() -> TracingBridge {
    TracingBridge {
        level: LevelFilter::INFO,
    }
}

impl TracingBridge {
    /// Bridges spans and events at `level` and above instead.
    pub fn with_max_level(self, level: LevelFilter) -> Self {
        TracingBridge { level }
    }

    fn wants(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= self.level
    }
}

/// The OpenTelemetry side of a bridged `tracing` span.
struct Bridged(Context);

thread_local! {
    // Contexts of the bridged spans entered on this thread, innermost last, so that calls made
    // inside a `tracing` span (and `_meta` injection) see it as their parent.
    static ENTERED: RefCell<Vec<(Id, opentelemetry::ContextGuard)>> = const { RefCell::new(Vec::new()) };
}

/// Field values as attributes: redacted by name and value, cut at the attribute length limit.
struct Fields {
    redactor: std::sync::Arc<crate::log::Redactor>,
    /// `tracing.limits.max_attribute_length`.
    max: usize,
    message: Option<String>,
    attributes: Vec<KeyValue>,
}

impl Fields {
    fn new() -> Self {
        let (redactor, max) =
            crate::runtime::with(|rt| (rt.redactor.clone(), rt.max_attribute_len));
        Fields {
            redactor,
            max,
            message: None,
            attributes: Vec::new(),
        }
    }

    fn push(&mut self, field: &Field, value: Value) {
        let name = field.name();
        let value = if self.redactor.is_secret_field(name) {
            Value::from(crate::log::REDACTED)
        } else {
            value
        };
        if name == "message" {
            self.message = Some(value.as_str().into_owned());
        } else {
            self.attributes.push(KeyValue::new(name, value));
        }
    }

    fn push_text(&mut self, field: &Field, text: &str) {
        let value = bounded(&self.redactor.redact(text), self.max).into_owned();
        self.push(field, Value::from(value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = bounded_format(format_args!("{value:?}"), self.max);
        self.push_text(field, &text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(
            field,
            i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::I64),
        );
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }
}

/// Where a source location goes on a span or event.
fn location(metadata: &'static tracing::Metadata<'static>, out: &mut Vec<KeyValue>) {
    out.push(KeyValue::new("code.namespace", metadata.target()));
    if let Some(file) = metadata.file() {
        out.push(KeyValue::new("code.file.path", file));
    }
    if let Some(line) = metadata.line() {
        out.push(KeyValue::new("code.line.number", i64::from(line)));
    }
}

impl TracingBridge {
    /// The context a new span or an event belongs to: its bridged `tracing` parent, else the
    /// current OpenTelemetry context when it holds a recording span, which is the call's while
    /// the call runs (or a bridged span's while that one is entered). A `tracing` parent that
    /// is not bridged, such as a dependency's session-long span opened outside any call, does
    /// not hide the call.
    fn parent<S>(
        &self,
        explicit: Option<&Id>,
        contextual: bool,
        ctx: &LayerContext<'_, S>,
    ) -> Option<Context>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let tracing_parent = match explicit {
            Some(id) => ctx.span(id),
            None if contextual => ctx.lookup_current(),
            None => None,
        };
        if let Some(bridged) = tracing_parent
            .as_ref()
            .and_then(|span| span.extensions().get::<Bridged>().map(|b| b.0.clone()))
        {
            return Some(bridged);
        }
        if explicit.is_none() && !contextual {
            return None;
        }
        let current = Context::current();
        current.span().is_recording().then_some(current)
    }
}

impl<S> Layer<S> for TracingBridge
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        if !self.wants(attrs.metadata()) {
            return;
        }
        let Some(parent) = self.parent(attrs.parent(), attrs.is_contextual(), &ctx) else {
            return;
        };
        let mut fields = Fields::new();
        attrs.record(&mut fields);
        location(attrs.metadata(), &mut fields.attributes);
        let name = bounded(attrs.metadata().name(), fields.max).into_owned();
        let span = crate::runtime::with_tracer(|tracer| {
            let builder = tracer
                .span_builder(name)
                .with_kind(SpanKind::Internal)
                .with_attributes(fields.attributes);
            tracer.build_with_context(builder, &parent)
        });
        if let (Some(span), Some(tracing_span)) = (span, ctx.span(id)) {
            tracing_span
                .extensions_mut()
                .insert(Bridged(parent.with_span(span)));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let extensions = span.extensions();
        let Some(Bridged(cx)) = extensions.get::<Bridged>() else {
            return;
        };
        let mut fields = Fields::new();
        values.record(&mut fields);
        cx.span().set_attributes(fields.attributes);
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let metadata = event.metadata();
        if !self.wants(metadata) {
            return;
        }
        let Some(cx) = self.parent(event.parent(), event.is_contextual(), &ctx) else {
            return;
        };
        let mut fields = Fields::new();
        event.record(&mut fields);
        fields
            .attributes
            .push(KeyValue::new("level", metadata.level().as_str()));
        location(metadata, &mut fields.attributes);
        let name = fields.message.unwrap_or_else(|| metadata.name().to_owned());
        cx.span().add_event(name, fields.attributes);
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let extensions = span.extensions();
        if let Some(Bridged(cx)) = extensions.get::<Bridged>() {
            let guard = cx.clone().attach();
            ENTERED.with(|entered| entered.borrow_mut().push((id.clone(), guard)));
        }
    }

    fn on_exit(&self, id: &Id, _ctx: LayerContext<'_, S>) {
        ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|(entered, _)| entered == id) {
                drop(entered.remove(at));
            }
        });
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if let Some(Bridged(cx)) = span.extensions_mut().remove::<Bridged>() {
            cx.span().end();
        }
    }
}
