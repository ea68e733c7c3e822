"""Waits with the official Python SDK's client for a tool list change caused by a call.

    python listen.py URL MODE TOOL

Lists the tools, calls TOOL (which changes the server's tools), waits for the server to say its
tools changed, and lists them again. In protocol 2026-07-28 the change comes on a
`subscriptions/listen` stream opened for `tools_list_changed`; in the legacy protocol as a
`notifications/tools/list_changed` to the session. Prints, as JSON, the negotiated protocol
version, the tool names before and after, and what announced the change.
"""

import asyncio
import json
import sys

from mcp import Client

DEADLINE = 20


async def legacy(url, tool):
    changed = asyncio.Event()
    seen = []

    async def on_message(message):
        name = type(getattr(message, "root", message)).__name__
        seen.append(name)
        if "ToolListChanged" in name:
            changed.set()

    async with Client(url, mode="legacy", cache=None, raise_exceptions=True, message_handler=on_message) as client:
        before = sorted(t.name for t in (await client.list_tools()).tools)
        await client.call_tool(tool, {})
        await asyncio.wait_for(changed.wait(), DEADLINE)
        after = sorted(t.name for t in (await client.list_tools()).tools)
        return client.protocol_version, before, after, [s for s in seen if "ToolListChanged" in s]


async def listening(url, mode, tool):
    async with Client(url, mode=mode, cache=None, raise_exceptions=True) as client:
        before = sorted(t.name for t in (await client.list_tools()).tools)
        async with client.listen(tools_list_changed=True) as subscription:
            await client.call_tool(tool, {})
            event = await asyncio.wait_for(anext(subscription), DEADLINE)
        after = sorted(t.name for t in (await client.list_tools()).tools)
        return client.protocol_version, before, after, [type(event).__name__]


def main():
    url, mode, tool = sys.argv[1], sys.argv[2], sys.argv[3]
    run = legacy(url, tool) if mode == "legacy" else listening(url, mode, tool)
    version, before, after, announced = asyncio.run(run)
    print(json.dumps({"protocolVersion": version, "before": before, "after": after, "announced": announced}))


if __name__ == "__main__":
    main()
