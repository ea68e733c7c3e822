//! How a call ended: its outcome and the class of its error, and how results and errors of
//! common types are classified.

use std::borrow::Cow;

/// Why a call failed, for `error.type` and the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A JSON-RPC error response with this code (`error.type` is the code as a string).
    JsonRpc(i64),
    /// The tool ran and reported failure (`isError: true`).
    ToolError,
    /// No answer in time.
    Timeout,
    /// Cancelled by the client.
    Cancelled,
    /// Anything else (`error.type` `_OTHER`).
    Other,
}

/// Implemented by error types to say how a failed call is classified. Errors that do not
/// implement it are classified [`ErrorClass::Other`].
///
/// ```
/// use only1mcp_obs::trace::{ClassifyError, ErrorClass};
///
/// enum ProxyError { BackendTimeout, Rpc { code: i64 } }
///
/// impl ClassifyError for ProxyError {
///     fn error_class(&self) -> ErrorClass {
///         match self {
///             ProxyError::BackendTimeout => ErrorClass::Timeout,
///             ProxyError::Rpc { code } => ErrorClass::JsonRpc(*code),
///         }
///     }
/// }
/// ```
pub trait ClassifyError {
    /// The class of this error.
    fn error_class(&self) -> ErrorClass;
}

impl ClassifyError for ErrorClass {
    fn error_class(&self) -> ErrorClass {
        *self
    }
}

impl ClassifyError for std::io::Error {
    fn error_class(&self) -> ErrorClass {
        match self.kind() {
            std::io::ErrorKind::TimedOut => ErrorClass::Timeout,
            _ => ErrorClass::Other,
        }
    }
}

impl ClassifyError for tokio::time::error::Elapsed {
    fn error_class(&self) -> ErrorClass {
        ErrorClass::Timeout
    }
}

/// Implemented by tool results that can report failure in-band (`isError: true`).
pub trait ToolResult {
    /// Whether the tool reported failure.
    fn is_tool_error(&self) -> bool;
}

impl ToolResult for serde_json::Value {
    /// A `CallToolResult` (or a JSON-RPC response wrapping one) with `isError: true`.
    fn is_tool_error(&self) -> bool {
        let result = self.get("result").unwrap_or(self);
        result
            .get("isError")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}

/// The outcome of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned normally.
    Success,
    /// It failed.
    Failure(ErrorClass),
}

/// `error.type`: the JSON-RPC code as a string, `tool_error`, `timeout`, `cancelled` or `_OTHER`.
pub fn error_type_text(class: ErrorClass) -> Cow<'static, str> {
    match class {
        ErrorClass::JsonRpc(code) => match code {
            -32700 => "-32700".into(),
            -32600 => "-32600".into(),
            -32601 => "-32601".into(),
            -32602 => "-32602".into(),
            -32603 => "-32603".into(),
            -32002 => "-32002".into(),
            other => other.to_string().into(),
        },
        ErrorClass::ToolError => "tool_error".into(),
        ErrorClass::Timeout => "timeout".into(),
        ErrorClass::Cancelled => "cancelled".into(),
        ErrorClass::Other => "_OTHER".into(),
    }
}
