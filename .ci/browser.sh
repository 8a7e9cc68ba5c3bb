#!/usr/bin/env bash
# The dashboard's browser test (tests/dashboard.rs): Debian's Chromium and
# Python's Playwright (driving the system browser; no browser download) in a
# venv of its own under target/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing and this is not root: apt-get install chromium" >&2
        exit 1
    fi
fi
VENV=target/browser-venv
if "$VENV/bin/python" -c "import playwright.sync_api" 2>/dev/null; then
    exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "playwright==1.65.3"
"$VENV/bin/python" -c "import playwright.sync_api"
