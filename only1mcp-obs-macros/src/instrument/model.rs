//! The checked model of a `#[mcp_instrumented]` attribute and the item it is on: every option
//! typed and settled, the method of every call known. Code generation reads only this.

use super::parse::Format;
use proc_macro2::Span;

pub(crate) struct Model {
    pub(crate) options: Options,
    pub(crate) target: Target,
}

/// The options, shared by every call of the item.
pub(crate) struct Options {
    /// The tool or prompt name.
    pub(crate) target: Option<syn::Expr>,
    pub(crate) kind: SpanKind,
    pub(crate) level: Level,
    pub(crate) server_id: Option<syn::Expr>,
    /// The trace context to continue.
    pub(crate) parent: Option<syn::Expr>,
    pub(crate) fields: Vec<Field>,
    /// `..value` entries: recorded after the fields, through `SpanFields`.
    pub(crate) spreads: Vec<syn::Expr>,
}

/// Who makes the call: the span kind.
#[derive(Clone, Copy)]
pub(crate) enum SpanKind {
    /// A call to a backend.
    Client,
    /// A call received.
    Server,
}

impl SpanKind {
    /// The `CallKind` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            SpanKind::Client => "Client",
            SpanKind::Server => "Server",
        }
    }
}

/// The level of the call's span and events.
#[derive(Clone, Copy)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub(crate) const ALL: [Level; 5] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The `CallLevel` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Level::Trace => "Trace",
            Level::Debug => "Debug",
            Level::Info => "Info",
            Level::Warn => "Warn",
            Level::Error => "Error",
        }
    }
}

/// A span attribute recorded on every call.
pub(crate) struct Field {
    /// The attribute key.
    pub(crate) key: String,
    /// The name as written: the recording call sits on it, so a type error points there.
    pub(crate) span: Span,
    pub(crate) value: FieldValue,
    pub(crate) format: Format,
}

pub(crate) enum FieldValue {
    /// An argument of the function, named by the field.
    Argument(syn::Ident),
    Expr(syn::Expr),
}

/// The item, and what to do with each of its functions.
pub(crate) enum Target {
    Fn {
        item: Box<syn::ItemFn>,
        call: Call,
    },
    Impl {
        item: syn::ItemImpl,
        /// One entry per item of the impl block, in order.
        members: Vec<Member>,
    },
}

pub(crate) enum Member {
    Instrument(Box<Call>),
    /// A method that opts out with its own `#[mcp_instrumented(skip)]`: that attribute, at this
    /// position among the method's attributes, is removed.
    Unmark(usize),
    /// Left as it is: not a method, or a method whose own attribute instruments it.
    Keep,
}

/// One instrumented function.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) body: Body,
    /// The declared return type, when it can be named (it has no `impl Trait`).
    pub(crate) output: Option<Box<syn::Type>>,
}

/// How the MCP method of a call is known.
pub(crate) enum Method {
    /// A literal checked at compile time, and its `McpMethod` variant.
    Literal { name: String, variant: syn::Ident },
    /// An expression evaluated per call.
    Expr(syn::Expr),
}

/// The shape of the function's body.
pub(crate) enum Body {
    /// An `async fn`.
    Async,
    /// The `Box::pin(async move { .. })` that `#[async_trait]` leaves when it expands first.
    AsyncTrait(syn::ExprAsync),
    /// Anything else: the call is measured around the body.
    Sync,
}
