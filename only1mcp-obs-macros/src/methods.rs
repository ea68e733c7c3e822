//! The MCP methods: one list for the `McpMethod` label domain, `#[mcp_instrumented]`'s check of
//! literal methods, and the inference of a method from an rmcp-style handler name.

use crate::label::{ClosedValue, closed_impl};
use proc_macro2::{Span, TokenStream};
use quote::format_ident;

/// (method, variant, handler fn names that imply it)
pub(crate) const MCP_METHODS: &[(&str, &str, &[&str])] = &[
    ("initialize", "Initialize", &["initialize"]),
    ("ping", "Ping", &["ping"]),
    ("tools/list", "ToolsList", &["list_tools"]),
    ("tools/call", "ToolsCall", &["call_tool"]),
    ("resources/list", "ResourcesList", &["list_resources"]),
    (
        "resources/templates/list",
        "ResourcesTemplatesList",
        &["list_resource_templates"],
    ),
    ("resources/read", "ResourcesRead", &["read_resource"]),
    ("resources/subscribe", "ResourcesSubscribe", &["subscribe"]),
    (
        "resources/unsubscribe",
        "ResourcesUnsubscribe",
        &["unsubscribe"],
    ),
    ("prompts/list", "PromptsList", &["list_prompts"]),
    ("prompts/get", "PromptsGet", &["get_prompt"]),
    ("completion/complete", "CompletionComplete", &["complete"]),
    ("logging/setLevel", "LoggingSetLevel", &["set_level"]),
    (
        "sampling/createMessage",
        "SamplingCreateMessage",
        &["create_message"],
    ),
    (
        "elicitation/create",
        "ElicitationCreate",
        &["create_elicitation"],
    ),
    ("roots/list", "RootsList", &["list_roots"]),
    (
        "notifications/initialized",
        "NotificationsInitialized",
        &["on_initialized"],
    ),
    (
        "notifications/cancelled",
        "NotificationsCancelled",
        &["on_cancelled"],
    ),
    (
        "notifications/progress",
        "NotificationsProgress",
        &["on_progress"],
    ),
    (
        "notifications/message",
        "NotificationsMessage",
        &["on_logging_message"],
    ),
    (
        "notifications/resources/updated",
        "NotificationsResourcesUpdated",
        &["on_resource_updated"],
    ),
    (
        "notifications/resources/list_changed",
        "NotificationsResourcesListChanged",
        &["on_resource_list_changed"],
    ),
    (
        "notifications/tools/list_changed",
        "NotificationsToolsListChanged",
        &["on_tool_list_changed"],
    ),
    (
        "notifications/prompts/list_changed",
        "NotificationsPromptsListChanged",
        &["on_prompt_list_changed"],
    ),
    (
        "notifications/roots/list_changed",
        "NotificationsRootsListChanged",
        &["on_roots_list_changed"],
    ),
];

/// The variant of `McpMethod` for a method name.
pub(crate) fn variant_of(method: &str) -> Option<&'static str> {
    MCP_METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map(|(_, v, _)| *v)
}

/// The method implied by a handler's name (`call_tool` -> `tools/call`), and its variant.
pub(crate) fn infer_from_fn(name: &str) -> Option<(&'static str, &'static str)> {
    MCP_METHODS
        .iter()
        .find(|(_, _, fns)| fns.contains(&name))
        .map(|(m, v, _)| (*m, *v))
}

pub(crate) fn names() -> Vec<&'static str> {
    MCP_METHODS.iter().map(|(m, _, _)| *m).collect()
}

/// `McpMethod`: the closed label domain of MCP methods, plus `_other`.
pub(crate) fn enum_tokens() -> TokenStream {
    let mut values: Vec<ClosedValue> = MCP_METHODS
        .iter()
        .map(|(m, v, _)| ClosedValue {
            variant: format_ident!("{}", v),
            value: (*m).to_owned(),
            value_span: Span::call_site(),
            is_error: false,
        })
        .collect();
    values.push(ClosedValue {
        variant: format_ident!("Other"),
        value: "_other".to_owned(),
        value_span: Span::call_site(),
        is_error: false,
    });
    let ident = format_ident!("McpMethod");
    closed_impl(
        &ident,
        "The method of an MCP JSON-RPC message (`mcp.method.name`). Anything not listed is `_other`, \
         so an untrusted method name never becomes a new series.",
        &values,
        true,
    )
}
