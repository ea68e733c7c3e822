"""Gets a prompt and reads a resource whose server asks the client something while it answers,
and calls a tool that logs, with the official Python SDK's client.

    python during.py URL MODE PREFIX

The client answers elicitation (accepts with the name `Grace Hopper`) and sampling (`sampled by python`),
and wants log messages at `info` and above: in protocol 2026-07-28 on each request (its `_meta`
log level), in the legacy protocol for the session (`logging/setLevel`). Gets the prompt
PREFIXgreet, reads `sampled://tides` and calls PREFIXchatty (server.py's). In 2026-07-28 the
server's questions come as `input_required` results, which the SDK answers and retries; a second
client that asks for no log messages calls PREFIXchatty too. Prints, as JSON, the negotiated
protocol version, the prompt's and the resource's text, what the client was asked, the log
messages it got, and those the second client got (2026-07-28 only).
"""

import asyncio

from mcp import Client

from answers import Answers, run

DEADLINE = 10


async def drive(url, mode, prefix):
    answers = Answers()
    logged = []
    chatted = asyncio.Event()

    async def logging(params):
        logged.append({"level": params.level, "data": params.data})
        if params.data == "chatty warning":
            chatted.set()

    legacy = mode == "legacy"
    async with Client(
        url,
        mode=mode,
        cache=None,
        **answers.callbacks(),
        logging_callback=logging,
        log_level=None if legacy else "info",
    ) as client:
        prompt = await client.get_prompt(f"{prefix}greet")
        resource = await client.read_resource("sampled://tides")
        if legacy:
            await client.set_logging_level("info")
        called = await client.call_tool(f"{prefix}chatty", {})
        # A session's log messages may come after the call's answer (on the session's stream).
        try:
            await asyncio.wait_for(chatted.wait(), DEADLINE)
        except TimeoutError:
            pass
        version = client.protocol_version
    quiet = []
    if not legacy:

        async def quiet_logging(params):
            quiet.append({"level": params.level, "data": params.data})

        async with Client(url, mode=mode, cache=None, logging_callback=quiet_logging) as client:
            await client.call_tool(f"{prefix}chatty", {})
    return {
        "protocolVersion": version,
        "prompt": " ".join(m.content.text for m in prompt.messages),
        "resource": " ".join(c.text for c in resource.contents if getattr(c, "text", None)),
        "called": " ".join(c.text for c in called.content if getattr(c, "text", None)),
        "asked": answers.asked,
        "logged": logged,
        "quiet": quiet,
    }


if __name__ == "__main__":
    run(drive)
