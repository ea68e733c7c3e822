"""Calls a tool with the official Python SDK's client in protocol 2026-07-28, asking in the
request's `_meta` for its log messages at LEVEL (`none`: asks for none).

    python levels.py URL TOOL LEVEL

Prints, as JSON, the negotiated protocol version, the tool's text and the log messages received.
"""

import asyncio
import json
import sys
import warnings

from mcp import Client


async def drive(url, tool, level):
    logged = []

    async def logging(params):
        logged.append({"level": params.level, "data": params.data})

    async with Client(
        url,
        mode="2026-07-28",
        cache=None,
        logging_callback=logging,
        log_level=None if level == "none" else level,
    ) as client:
        called = await client.call_tool(tool, {"text": "hi"})
        version = client.protocol_version
    return {
        "protocolVersion": version,
        "text": " ".join(c.text for c in called.content if getattr(c, "text", None)),
        "logged": logged,
    }


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    print(json.dumps(asyncio.run(drive(*sys.argv[1:4])), sort_keys=True))
