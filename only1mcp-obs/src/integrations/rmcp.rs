//! The official Rust MCP SDK (`rmcp`), with the `rmcp` feature: outcome classification of its
//! errors and tool results, and trace context in and out of its request `_meta`.
//!
//! ```
//! use only1mcp_obs::integrations::rmcp::{TraceMeta, inject};
//! use rmcp::model::RequestMetaObject;
//!
//! // A server handler reads the caller's context from `RequestContext::meta`:
//! //     #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta))]
//! // and a client call carries the current context to the backend:
//! let mut meta: Option<RequestMetaObject> = None;
//! inject(&mut meta);
//! ```

use crate::propagation::{ParentContext, extract_meta_object, inject_meta_object};
use crate::trace::{ClassifyError, ErrorClass, ToolResult};
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use rmcp::model::{CallToolResponse, CallToolResult, ErrorData, MetaObject, RequestMetaObject};
use serde_json::{Map, Value};

impl ClassifyError for ErrorData {
    /// The JSON-RPC error code.
    fn error_class(&self) -> ErrorClass {
        ErrorClass::JsonRpc(i64::from(self.code.0))
    }
}

impl ClassifyError for rmcp::ServiceError {
    fn error_class(&self) -> ErrorClass {
        match self {
            rmcp::ServiceError::McpError(e) => e.error_class(),
            rmcp::ServiceError::Timeout { .. } => ErrorClass::Timeout,
            rmcp::ServiceError::Cancelled { .. } => ErrorClass::Cancelled,
            _ => ErrorClass::Other,
        }
    }
}

impl ToolResult for CallToolResult {
    fn is_tool_error(&self) -> bool {
        self.is_error == Some(true)
    }
}

impl ToolResult for CallToolResponse {
    fn is_tool_error(&self) -> bool {
        matches!(self, CallToolResponse::Complete(result) if result.is_tool_error())
    }
}

/// A request's `_meta` object as a parent: `parent = TraceMeta(&context.meta)`.
#[derive(Debug, Clone, Copy)]
pub struct TraceMeta<'a>(pub &'a RequestMetaObject);

impl ParentContext for TraceMeta<'_> {
    fn parent_context(&self) -> Option<Context> {
        let map: &Map<String, Value> = &(self.0).0.0;
        let cx = extract_meta_object(map);
        cx.span().span_context().is_valid().then_some(cx)
    }
}

impl ParentContext for RequestMetaObject {
    fn parent_context(&self) -> Option<Context> {
        TraceMeta(self).parent_context()
    }
}

impl ParentContext for MetaObject {
    fn parent_context(&self) -> Option<Context> {
        let cx = extract_meta_object(&self.0);
        cx.span().span_context().is_valid().then_some(cx)
    }
}

/// Writes the current context (`traceparent`, `tracestate`, `baggage`) into an outgoing
/// request's `_meta`, creating it when absent and keeping its other keys.
pub fn inject(meta: &mut Option<RequestMetaObject>) {
    let meta = meta.get_or_insert_with(RequestMetaObject::default);
    inject_meta_object(&Context::current(), &mut (meta.0).0);
}
