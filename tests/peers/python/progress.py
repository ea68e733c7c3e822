"""Calls one tool with the official Python SDK's client, asking for progress.

    python progress.py URL MODE TOOL ARGUMENTS_JSON

Prints one JSON object: the progress notifications received (progress, total, message), in
order, and whether the call succeeded.
"""

import asyncio
import json
import sys

from mcp import Client


async def drive(url, mode, tool, arguments):
    received = []

    async def on_progress(progress, total, message):
        received.append({"progress": progress, "total": total, "message": message})

    async with Client(url, mode=mode, cache=None, raise_exceptions=True) as client:
        result = await client.call_tool(tool, arguments, progress_callback=on_progress)
        return {"isError": bool(result.is_error), "progress": received}


def main():
    url, mode, tool, arguments = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    print(json.dumps(asyncio.run(drive(url, mode, tool, arguments)), sort_keys=True))


if __name__ == "__main__":
    main()
