"""Drives `heepr-agent mcp` with the official MCP Python SDK (`mcp` on PyPI) as the client.

Usage: agent_client.py <phase> <heepr-agent binary> <bundle dir>

One phase per step of an order, since the customer and the owner act in between (the
Rust test, tests/tests/agent_mcp.rs, does that):
  first  - every tool listed; poll the new order; get it; download its attachment;
           report progress; deliver text and a file; calls that do not fit answer errors
  second - poll the revision request; its history; deliver again with a link
  third  - poll the completion; the order is over, so the tools refuse
The last line printed is a JSON object of what the test checks.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

TOOLS = {
    "poll_events",
    "get_order",
    "download_attachment",
    "deliver",
    "decline",
    "flag",
    "report_progress",
}


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def ok(session, name, args):
    result = await session.call_tool(name, args)
    assert not result.is_error, f"{name}: {text_of(result)}"
    return json.loads(text_of(result))


async def refused(session, name, args, why):
    result = await session.call_tool(name, args)
    assert result.is_error, f"{name} should be refused: {text_of(result)}"
    message = text_of(result)
    assert why in message, f"{name}: {message!r} does not say {why!r}"
    return message


async def poll_until(session, kind):
    """Polls (long-polling 5 s at a time) until an event of `kind` comes."""
    for _ in range(6):
        got = await ok(session, "poll_events", {"wait_seconds": 5})
        for event in got["events"]:
            if event["k"] == kind:
                return event, got
    raise AssertionError(f"no {kind} event")


async def first(session, folder):
    await refused(session, "deliver", {"order_id": "ord_nope", "text": "x"}, "not known here")
    event, got = await poll_until(session, "new_order")
    order = event["o"]
    assert order in got["work"], got
    view = await ok(session, "get_order", {"order_id": order})
    assert view["standing"] == "open" and "deliver" in view["can"], view
    attachment = view["work"]["at"][0]["n"]
    path = (await ok(session, "download_attachment", {"order_id": order, "name": attachment}))["path"]
    with open(path, encoding="utf-8") as f:
        content = f.read()
    await refused(session, "download_attachment", {"order_id": order, "name": "nope.txt"}, "no attachment named")
    await ok(session, "report_progress", {"order_id": order, "progress": 30, "note": "reading"})
    await refused(session, "report_progress", {"order_id": order, "progress": 101}, "0")
    out = os.path.join(folder, "work", order, "answer.txt")
    with open(out, "w", encoding="utf-8") as f:
        f.write("the answer: " + content.upper())
    delivered = await ok(
        session, "deliver", {"order_id": order, "text": "Fixed, see answer.txt", "files": ["answer.txt"]}
    )
    await refused(session, "deliver", {"order_id": order, "text": "again"}, "was delivered")
    await refused(session, "decline", {"order_id": order, "reason": "capacity"}, "was delivered")
    return {"order": order, "attachment": content, "delivery": delivered["delivery_id"], "files": delivered["files"]}


async def second(session, folder):
    event, _ = await poll_until(session, "revision_request")
    order = event["o"]
    view = await ok(session, "get_order", {"order_id": order})
    assert view["standing"] == "open", view
    history = view["work"]["rh"]
    delivered = await ok(
        session,
        "deliver",
        {"order_id": order, "text": "Shorter now", "urls": ["https://example.com/v2"], "note": "round 2"},
    )
    return {"order": order, "revision": history[-1]["m"], "delivery": delivered["delivery_id"]}


async def third(session, folder):
    event, _ = await poll_until(session, "order_completed")
    order = event["o"]
    view = await ok(session, "get_order", {"order_id": order})
    assert view["standing"] == "completed" and view["can"] == [], view
    message = await refused(session, "report_progress", {"order_id": order, "progress": 100}, "is completed")
    await refused(session, "flag", {"order_id": order, "reason": "other"}, "is completed")
    return {"order": order, "refusal": message}


async def main():
    phase, binary, folder = sys.argv[1], sys.argv[2], sys.argv[3]
    params = StdioServerParameters(command=binary, args=["mcp", "--dir", folder], env={"RUST_LOG": "warn"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert names == TOOLS, names
            result = await {"first": first, "second": second, "third": third}[phase](session, folder)
    result["tools"] = sorted(names)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
