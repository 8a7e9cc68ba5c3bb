#!/usr/bin/env bash
# The official MCP Python SDK for the MCP tests (tests/mcp.rs), in a venv of
# its own under target/ (nothing installed system-wide). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/mcp-venv
if "$VENV/bin/python" -c "import mcp, httpx2" 2>/dev/null; then
    exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "mcp==2.3.0"
"$VENV/bin/python" -c "import mcp, httpx2"
