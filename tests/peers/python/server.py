"""An MCP server written with the official Python SDK, its OpenTelemetry spans exported.

    python server.py [OTLP_HTTP_BASE_URL]

Serves tools over stdio: `echo` (answers `python: TEXT`), `flaky` (a tool error), `fail` (a
JSON-RPC error, code -32602), `grow`, which adds the tool `grown` and says so
(`notifications/tools/list_changed`), `slow`, which writes MARKER.started, waits a minute,
and writes MARKER.cancelled if it is cancelled first, and `chatty`, which logs `chatty debug`,
`chatty info` and `chatty warning` at those levels during the call. Its prompt `greet` asks the
client who is asking (elicitation) and its resource template `sampled://{topic}` asks the
client to write about the topic (sampling), each during the request. The SDK's own instrumentation (on by default in its
servers) makes a server span per request, continuing the trace named in `params._meta`. Spans
go over OTLP/HTTP (protobuf) to OTLP_HTTP_BASE_URL/v1/traces with service.name
`python-mcp-server`, each as it ends; without that argument none are exported. Nothing but
the protocol is written to stdout.
"""

import sys
import warnings
from pathlib import Path

import anyio

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from pydantic import BaseModel

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import SamplingMessage, TextContent

server = MCPServer("python-backend")


@server.tool()
def echo(text: str) -> str:
    """Answers with the text."""
    return f"python: {text}"


@server.tool()
def flaky(text: str) -> str:
    """Always fails as a tool error."""
    raise ToolError(f"flaky refuses {text}")


@server.tool()
def fail(text: str) -> str:
    """Always fails with a JSON-RPC error."""
    raise MCPError(-32602, f"fail refuses {text}")


@server.tool()
async def slow(marker: str) -> str:
    """Waits a minute; says whether it started and whether it was cancelled, in files."""
    Path(f"{marker}.started").write_text("started")
    try:
        await anyio.sleep(60)
    except anyio.get_cancelled_exc_class():
        Path(f"{marker}.cancelled").write_text("cancelled")
        raise
    return "slept"


def grown() -> str:
    """Added by `grow`."""
    return "grown"


@server.tool()
async def grow(ctx: Context) -> str:
    """Adds the tool `grown` and tells the client its tools changed."""
    server.add_tool(grown, name="grown")
    await ctx.session.send_tool_list_changed()
    return "grew"


@server.tool()
async def chatty(ctx: Context) -> str:
    """Logs at debug, info and warning during the call."""
    await ctx.debug("chatty debug")
    await ctx.info("chatty info")
    await ctx.warning("chatty warning")
    return "chatted"


class Name(BaseModel):
    name: str


@server.prompt()
async def greet(ctx: Context) -> str:
    """Asks the client who is asking, and greets them."""
    answer = await ctx.elicit("Who is asking?", Name)
    who = answer.data.name if answer.action == "accept" else answer.action
    return f"hello {who}"


@server.resource("sampled://{topic}")
async def sampled(topic: str, ctx: Context) -> str:
    """Asks the client to write about the topic."""
    result = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=f"write about {topic}"))],
        max_tokens=20,
        related_request_id=ctx.request_id,
    )
    return f"{topic}: {result.content.text}"


def main():
    warnings.simplefilter("ignore")
    provider = TracerProvider(resource=Resource.create({"service.name": "python-mcp-server"}))
    if len(sys.argv) > 1:
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{sys.argv[1]}/v1/traces")))
    trace.set_tracer_provider(provider)
    try:
        server.run("stdio")
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
