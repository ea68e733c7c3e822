"""Drives an MCP server over Streamable HTTP with the official Python SDK's client.

    python drive.py URL MODE [lists]

MODE is the client's `mode`: "legacy" (initialize, protocol 2025-11-25), "auto" (discover, falling
back to initialize) or a modern protocol version such as "2026-07-28". Runs the same operations
on every server and prints one JSON object on stdout: the negotiated protocol version and, per
operation, {"ok": result} or {"error": {"code", "message"}}, so a test can compare two servers.
With `lists`, only the lists (for a server that has none of the `files_*` tools).
"""

import asyncio
import json
import sys
import warnings

from mcp import Client, MCPError
from mcp.types import PromptReference


def dump(value):
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


async def outcome(call):
    try:
        return {"ok": dump(await call)}
    except MCPError as e:
        return {"error": {"code": e.code, "message": e.message}}


LISTS = ("tools/list", "resources/list", "prompts/list", "resources/templates/list")


async def drive(url, mode, only_lists):
    # The results are compared between servers: the client's response cache stays out of it.
    async with Client(url, mode=mode, cache=None, raise_exceptions=True) as client:
        ops = {
            "tools/list": client.list_tools(),
            "resources/list": client.list_resources(),
            "prompts/list": client.list_prompts(),
            "resources/templates/list": client.list_resource_templates(),
            "tools/call files_echo": client.call_tool("files_echo", {"text": "interop"}),
            "tools/call files_flaky": client.call_tool("files_flaky", {"text": "interop"}),
            "tools/call files_fail": client.call_tool("files_fail", {"text": "interop"}),
            "resources/read": client.read_resource("demo://files/readme"),
            "prompts/get files_greet": client.get_prompt("files_greet", {"who": "ada"}),
            "completion/complete": client.complete(
                PromptReference(type="ref/prompt", name="files_greet"), {"name": "who", "value": "a"}
            ),
        }
        results = {"protocolVersion": client.protocol_version}
        for name, call in ops.items():
            if only_lists and name not in LISTS:
                call.close()
                continue
            results[name] = await outcome(call)
        return results


def main():
    url, mode, only_lists = sys.argv[1], sys.argv[2], sys.argv[3:] == ["lists"]
    warnings.simplefilter("ignore")
    print(json.dumps(asyncio.run(drive(url, mode, only_lists)), sort_keys=True))


if __name__ == "__main__":
    main()
