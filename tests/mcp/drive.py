"""Drives agentgate's MCP server with the official Python SDK (`mcp` on PyPI).

Usage: drive.py stdio|http legacy|auto WORKDIR
  stdio: starts `$AGENTGATE_BIN mcp` (the daemon's socket and root from the environment)
  http:  $AGENTGATE_MCP_URL with the API key $AGENTGATE_API_KEY
  legacy: the 2025 protocol (initialize handshake, resources/subscribe)
  auto:   what the SDK negotiates by itself (2026: server/discover, subscriptions/listen)

Checks, each failing with a message: tools listed (kill and merge left out by
default), two work orders submitted and waited for with progress, a
transcript read and followed while it grows, logs, a refusal (unknown id)
and bad arguments as isError, a tool outside `allow` refused. Prints one JSON
line with what it saw for the Rust test to check against the daemon.
"""

import json
import os
import sys
import time
import warnings

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

warnings.simplefilter("ignore")

kind, mode, workdir = sys.argv[1], sys.argv[2], sys.argv[3]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def poll(what, timeout, fn):
    deadline = time.monotonic() + timeout
    while True:
        v = await fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise SystemExit(f"FAILED: timed out waiting for {what}")
        await anyio.sleep(0.05)


async def main():
    updates = []

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(message.params.uri)

    if kind == "stdio":
        server = StdioServerParameters(
            command=os.environ["AGENTGATE_BIN"], args=["mcp"], env=dict(os.environ), cwd=workdir
        )
    else:
        http = httpx2.AsyncClient(
            headers={"Authorization": "Bearer " + os.environ["AGENTGATE_API_KEY"]},
            timeout=httpx2.Timeout(60.0, read=120.0),
        )
        server = streamable_http_client(os.environ["AGENTGATE_MCP_URL"], http_client=http)

    seen = {}
    async with Client(
        server,
        mode=mode,
        client_info=types.Implementation(name="Fanout Test", version="1.0"),
        message_handler=on_message,
        cache=None,
    ) as c:
        seen["protocol"] = c.protocol_version
        tools = {t.name: t for t in (await c.list_tools()).tools}
        check({"submit", "list", "show", "logs", "wait", "cancel", "continue", "diff", "stats"} <= set(tools),
              f"tools listed: {sorted(tools)}")
        check("kill" not in tools and "merge" not in tools, f"kill/merge listed by default: {sorted(tools)}")
        check(tools["submit"].input_schema.get("properties", {}).get("prompt") is not None,
              "submit's schema names prompt")

        tag = "fanout-" + os.urandom(4).hex()
        gate = os.path.join(workdir, "gate")
        first = await c.call_tool("submit", {
            "prompt": f"echo first-line; while [ ! -e {gate} ]; do sleep 0.02; done; echo after-gate; "
                      f"while [ ! -e {gate}2 ]; do sleep 0.02; done; echo first-done",
            "agent": "shell", "labels": [tag], **({"path": workdir} if kind == "http" else {}),
        })
        check(not first.is_error, f"submit 1: {text_of(first)}")
        second = await c.call_tool("submit", {
            "prompt": "echo second-done", "agent": "shell", "labels": [tag],
            **({"path": workdir} if kind == "http" else {}),
        })
        check(not second.is_error, f"submit 2: {text_of(second)}")
        id1, id2 = first.structured_content["id"], second.structured_content["id"]
        seen["ids"] = [id1, id2]

        # The transcript as a resource, followed while it grows.
        uri = f"agentgate://work-orders/{id1}/transcript"

        async def transcript():
            r = await c.read_resource(uri)
            return "".join(getattr(x, "text", "") for x in r.contents)

        await poll("the first line in the transcript", 20, lambda: _has(transcript, "first-line"))
        templates = (await c.list_resource_templates()).resource_templates
        check(any("{id}" in t.uri_template for t in templates), "the transcript template is listed")

        async def gate_and_watch():
            with open(gate, "w"):
                pass
            await poll("the gated line in the transcript", 20, lambda: _has(transcript, "after-gate"))

        if mode == "legacy":
            await c.subscribe_resource(uri)
            await gate_and_watch()
            await poll("a resources/updated notification", 20, lambda: _ready(uri in updates))
        else:
            async with c.listen(resource_subscriptions=[uri]) as sub:
                await gate_and_watch()
                with anyio.fail_after(20):
                    async for event in sub:
                        if getattr(event, "uri", None) == uri:
                            updates.append(uri)
                            break

        # Both waited for, with progress.
        progress = []

        async def on_progress(p, total, message):
            progress.append((p, total, message))

        result = {}

        async def waiting():
            result["done"] = await c.call_tool("wait", {"ids": [id1, id2], "timeout": "60s"},
                                               progress_callback=on_progress)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiting)
            # The first report comes at once, with the first still running.
            await poll("a first progress report", 20, lambda: _ready(progress))
            with open(gate + "2", "w"):
                pass
        done = result["done"]
        check(not done.is_error, f"wait: {text_of(done)}")
        check(done.structured_content["timedOut"] is False, f"wait timed out: {done.structured_content}")
        check(done.structured_content["allSucceeded"] is True, f"wait: {done.structured_content}")
        check(len(progress) >= 2 and "2 of 2 ended" in progress[-1][2]
              and progress[-1][0] > progress[0][0], f"progress reported: {progress}")
        seen["progress"] = len(progress)

        logs = await c.call_tool("logs", {"id": id2})
        check(not logs.is_error and "second-done" in text_of(logs), f"logs: {text_of(logs)}")

        listed = await c.call_tool("list", {"labels": [tag]})
        check(listed.structured_content["total"] == 2, f"list by label: {listed.structured_content}")

        # Refusals are tool results with isError, never protocol errors.
        missing = await c.call_tool("show", {"id": "NOSUCHWORKORDER"})
        check(missing.is_error, f"unknown id not refused: {text_of(missing)}")
        seen["unknown"] = text_of(missing)
        bad = await c.call_tool("submit", {"prompt": "x", "priority": "high"})
        check(bad.is_error and "priority" in text_of(bad), f"bad argument: {text_of(bad)}")
        seen["bad"] = text_of(bad)
        killed = await c.call_tool("kill", {"id": id1})
        check(killed.is_error and "not allowed" in text_of(killed), f"kill allowed: {text_of(killed)}")
        seen["disallowed"] = text_of(killed)

    print("MCP-RESULT " + json.dumps(seen), flush=True)


async def _has(fn, needle):
    return needle in await fn()


async def _ready(v):
    return v


anyio.run(main)
