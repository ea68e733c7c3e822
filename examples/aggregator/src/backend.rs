//! The demo backends: small MCP servers with tools, resources and prompts, instrumented as
//! servers. The aggregator starts each as a child process of its own.

use only1mcp_obs::catalogue::ToolName;
use only1mcp_obs::integrations::rmcp::TraceMeta;
use only1mcp_obs::mcp_instrumented;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::json;

type Ctx = RequestContext<RoleServer>;

fn object(value: serde_json::Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

fn arg(arguments: &Option<JsonObject>, key: &str) -> String {
    arguments
        .as_ref()
        .and_then(|a| a.get(key))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned()
}

/// A demo backend named `name`: tools `{name}_echo`, `{name}_fail` (a JSON-RPC error) and
/// `{name}_flaky` (a tool error), a resource and a prompt.
#[derive(Clone, Debug)]
pub(crate) struct Backend {
    pub(crate) name: String,
}

#[mcp_instrumented]
impl ServerHandler for Backend {
    #[mcp_instrumented(skip)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            format!("demo-{}", self.name),
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_tools(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema =
            object(json!({ "type": "object", "properties": { "text": { "type": "string" } } }));
        let tools = ["echo", "fail", "flaky"]
            .iter()
            .map(|t| {
                let tool = Tool::new(
                    format!("{}_{t}", self.name),
                    format!("{t} on {}", self.name),
                    schema.clone(),
                );
                // `echo` has no side effects: the aggregator may reuse its results.
                tool.with_annotations(ToolAnnotations::new().read_only(*t == "echo"))
            })
            .collect::<Vec<Tool>>();
        for tool in &tools {
            // The tools this server serves: label values from now on.
            ToolName::new(&tool.name);
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta))]
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: Ctx,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = arg(&request.arguments, "text");
        let tool = request
            .name
            .strip_prefix(&format!("{}_", self.name))
            .unwrap_or(&request.name);
        match tool {
            "echo" => {
                say_log_level(&self.name, &context).await;
                Ok(CallToolResult::success(vec![ContentBlock::text(format!(
                    "{}: {text}",
                    self.name
                ))])
                .into())
            }
            "fail" => Err(ErrorData::invalid_params(
                format!("{} refuses: {text}", self.name),
                None,
            )),
            _ => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "{} is flaky today",
                self.name
            ))])
            .into()),
        }
    }

    async fn list_resources(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resource = Resource::new(format!("demo://{}/readme", self.name), "readme")
            .with_mime_type("text/plain");
        Ok(ListResourcesResult::with_all_items(vec![resource]))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta))]
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: Ctx,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let contents = ResourceContents::text(
            format!("{} serves {}", self.name, request.uri),
            request.uri.clone(),
        );
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_prompts(
        &self,
        _page: Option<PaginatedRequestParams>,
        _context: Ctx,
    ) -> Result<ListPromptsResult, ErrorData> {
        let prompt = Prompt::new(
            format!("{}_greet", self.name),
            Some("A greeting"),
            Some(vec![PromptArgument::new("who").with_required(true)]),
        );
        Ok(ListPromptsResult::with_all_items(vec![prompt]))
    }

    #[mcp_instrumented(parent = TraceMeta(&context.meta))]
    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: Ctx,
    ) -> Result<CompleteResult, ErrorData> {
        // The `who` argument of the greeting prompt: names starting with what was typed.
        let prefix = request.argument.value.to_lowercase();
        let values = ["ada", "alan", "grace", "linus"]
            .into_iter()
            .filter(|name| request.argument.name == "who" && name.starts_with(&prefix))
            .map(str::to_owned)
            .collect();
        let info = CompletionInfo::with_all_values(values)
            .map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    #[mcp_instrumented(target = request.name, parent = TraceMeta(&context.meta))]
    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: Ctx,
    ) -> Result<GetPromptResponse, ErrorData> {
        let who = arg(&request.arguments, "who");
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!("{} greets {who}", self.name),
        )])
        .into())
    }
}

/// A `2026-07-28` client asks for a request's log messages in its `_meta`
/// (`io.modelcontextprotocol/logLevel`): the demo's `echo` then sends one, at that level, saying
/// which level it was asked for; asked for none, it sends none.
#[allow(deprecated)] // Logging is deprecated by SEP-2577 but still part of both generations.
async fn say_log_level(backend: &str, context: &Ctx) {
    let Some(level) = context.meta.log_level() else {
        return;
    };
    let name = serde_json::to_value(level)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let message = LoggingMessageNotificationParam::new(
        level,
        serde_json::json!(format!("{backend}: asked for log messages at {name}")),
    )
    .with_logger(backend);
    if let Err(e) = context.peer.notify_logging_message(message).await {
        tracing::debug!(error = %e, "the demo backend's log message was not sent");
    }
}
