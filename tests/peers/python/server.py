"""An MCP server written with the official Python SDK, its OpenTelemetry spans exported.

    python server.py [OTLP_HTTP_BASE_URL]

Serves tools over stdio: `echo` (answers `python: TEXT`), `flaky` (a tool error), `fail` (a
JSON-RPC error, code -32602), `grow`, which adds the tool `grown` and says so
(`notifications/tools/list_changed`), and `slow`, which writes MARKER.started, waits a minute,
and writes MARKER.cancelled if it is cancelled first. The SDK's own instrumentation (on by default in its
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

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

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
