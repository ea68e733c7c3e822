"""A stdio MCP server with one tool, `echo`, that exits after answering CALLS tool calls.
When MARKER exists (it is a restart) it waits DELAY seconds before reading its input, so that
the aggregator sees it down for a while.

usage: crashy.py CALLS MARKER DELAY
"""
import json
import os
import sys
import time

calls_left, marker, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
if os.path.exists(marker):
    time.sleep(delay)
open(marker, "a").close()
print("crashy: started", file=sys.stderr, flush=True)
for line in sys.stdin:
    message = json.loads(line)
    method, ident = message.get("method"), message.get("id")
    if ident is None:
        continue
    if method == "initialize":
        result = {
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "crashy", "version": "1.0"},
        }
    elif method == "tools/list":
        result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        calls_left -= 1
        text = "crashy: " + json.dumps(message["params"].get("arguments", {}))
        result = {"content": [{"type": "text", "text": text}]}
    else:
        result = {}
    print(json.dumps({"jsonrpc": "2.0", "id": ident, "result": result}), flush=True)
    if method == "tools/call" and calls_left <= 0:
        print("crashy: exiting", file=sys.stderr, flush=True)
        sys.exit(3)
