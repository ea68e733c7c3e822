"""Calls tools with the official Python SDK's client, its OpenTelemetry spans exported.

    python traced.py URL MODE OTLP_HTTP_BASE_URL [PREFIX]

Calls `PREFIXecho`, `PREFIXflaky` (a tool error) and `PREFIXfail` (a JSON-RPC error); PREFIX is
`files_` unless given. The SDK's own
instrumentation makes a client span per call (`MCP send tools/call files_echo`) and puts its
context into `params._meta` (traceparent). Spans go over OTLP/HTTP (protobuf) to
OTLP_HTTP_BASE_URL/v1/traces with service.name `python-mcp-client`, each as it ends. No span is
opened around the call, so the SDK's client span is the root of the trace. Prints, as JSON, the
negotiated protocol version, the echo's text and the JSON-RPC error code of `files_fail`.
"""

import asyncio
import json
import sys
import warnings

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from mcp import Client, MCPError


async def call(url, mode, prefix):
    async with Client(url, mode=mode, cache=None, raise_exceptions=True) as client:
        result = await client.call_tool(f"{prefix}echo", {"text": "traced"})
        flaky = await client.call_tool(f"{prefix}flaky", {"text": "traced"})
        try:
            await client.call_tool(f"{prefix}fail", {"text": "traced"})
            code = None
        except MCPError as e:
            code = e.code
        return {
            "protocolVersion": client.protocol_version,
            "text": result.content[0].text,
            "flakyIsError": flaky.is_error,
            "failCode": code,
        }


def main():
    url, mode, otlp = sys.argv[1], sys.argv[2], sys.argv[3]
    prefix = sys.argv[4] if len(sys.argv) > 4 else "files_"
    warnings.simplefilter("ignore")
    provider = TracerProvider(resource=Resource.create({"service.name": "python-mcp-client"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp}/v1/traces")))
    trace.set_tracer_provider(provider)
    result = asyncio.run(call(url, mode, prefix))
    provider.force_flush()
    provider.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
