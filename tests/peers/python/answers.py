"""The answers the test clients give a server's requests, and the record of what they were asked.

`Answers().callbacks()` are the official Python SDK client's `sampling_callback`,
`elicitation_callback` and `list_roots_callback`: sampling answers `sampled by python` (model
`python-model`), elicitation accepts with the name `Grace Hopper`, roots lists one root. Each
question is appended to `asked`. `run(drive)` is the drivers' `main`: `drive(URL, MODE, PREFIX)`
from the command line, its result printed as JSON.
"""

import asyncio
import json
import sys
import warnings

from mcp.types import CreateMessageResult, ElicitResult, ListRootsResult, Root, TextContent


class Answers:
    def __init__(self):
        self.asked = []

    async def sampling(self, context, params):
        self.asked.append({"sampling": [m.content.text for m in params.messages]})
        return CreateMessageResult(
            role="assistant",
            content=TextContent(type="text", text="sampled by python"),
            model="python-model",
            stop_reason="endTurn",
        )

    async def elicitation(self, context, params):
        self.asked.append({"elicitation": params.message})
        return ElicitResult(action="accept", content={"name": "Grace Hopper", "check": True})

    async def roots(self, context):
        self.asked.append({"roots": True})
        return ListRootsResult(roots=[Root(uri="file:///work/python", name="python")])

    def callbacks(self):
        return {
            "sampling_callback": self.sampling,
            "elicitation_callback": self.elicitation,
            "list_roots_callback": self.roots,
        }


def run(drive):
    warnings.simplefilter("ignore")
    url, mode, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    print(json.dumps(asyncio.run(drive(url, mode, prefix)), sort_keys=True))
