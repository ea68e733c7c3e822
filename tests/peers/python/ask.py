"""Calls tools whose server asks the client something, with the official Python SDK's client.

    python ask.py URL MODE PREFIX

The client answers sampling (`sampled by python`, model `python-model`), elicitation (accepts
with a name) and roots (one root). Calls PREFIXtrigger-sampling-request and
PREFIXtrigger-elicitation-request of server-everything. In protocol 2026-07-28 the server's
questions come as `input_required` results, which the SDK answers and retries; in the legacy
protocol as requests to the client during the call. Prints, as JSON, the negotiated protocol
version, each call's text and whether it failed, and what the client was asked.
"""


from mcp import Client

from answers import Answers, run


async def drive(url, mode, prefix):
    answers = Answers()
    calls = {}
    async with Client(
        url,
        mode=mode,
        cache=None,
        **answers.callbacks(),
    ) as client:
        for tool, arguments in [
            ("trigger-sampling-request", {"prompt": "ask me", "maxTokens": 20}),
            ("trigger-elicitation-request", {}),
        ]:
            result = await client.call_tool(f"{prefix}{tool}", arguments)
            calls[tool] = {
                "isError": bool(result.is_error),
                "text": " ".join(c.text for c in result.content if getattr(c, "text", None)),
            }
        return {"protocolVersion": client.protocol_version, "calls": calls, "asked": answers.asked}


if __name__ == "__main__":
    run(drive)
