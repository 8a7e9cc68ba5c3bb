"""The operator's guard rails and a daemon that is down, through the official
Python SDK over stdio (`$AGENTGATE_BIN mcp`).

Usage: limits.py limits|down WORKDIR
  limits: the config allows submit, list, kill only; max_active = 1; labels = ["delegated"]
  down:   no daemon on the socket: every tool answers isError, saying so
"""

import json
import os
import sys
import warnings

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters

warnings.simplefilter("ignore")

scenario, workdir = sys.argv[1], sys.argv[2]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main():
    server = StdioServerParameters(
        command=os.environ["AGENTGATE_BIN"], args=["mcp"], env=dict(os.environ), cwd=workdir
    )
    seen = {}
    async with Client(server, mode="legacy", cache=None,
                      client_info=types.Implementation(name="limits", version="1")) as c:
        if scenario == "down":
            r = await c.call_tool("list", {})
            check(r.is_error, f"list with no daemon: {text_of(r)}")
            seen["down"] = text_of(r)
        else:
            tools = sorted(t.name for t in (await c.list_tools()).tools)
            check(tools == ["kill", "list", "submit"], f"tools: {tools}")
            gate = os.path.join(workdir, "gate")
            first = await c.call_tool("submit", {
                "prompt": f"while [ ! -e {gate} ]; do sleep 0.02; done", "agent": "shell"})
            check(not first.is_error, f"submit: {text_of(first)}")
            seen["id"] = first.structured_content["id"]
            seen["labels"] = first.structured_content["labels"]
            over = await c.call_tool("submit", {"prompt": "true", "agent": "shell"})
            check(over.is_error and "max_active" in text_of(over), f"over the limit: {text_of(over)}")
            seen["over"] = text_of(over)
            waited = await c.call_tool("wait", {"ids": [seen["id"]]})
            check(waited.is_error and "not allowed" in text_of(waited), f"wait: {text_of(waited)}")
            killed = await c.call_tool("kill", {"id": seen["id"], "force": True})
            check(not killed.is_error, f"kill: {text_of(killed)}")
            seen["killed"] = killed.structured_content["status"]
    print("MCP-RESULT " + json.dumps(seen), flush=True)


anyio.run(main)
