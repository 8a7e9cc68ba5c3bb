#!/usr/bin/env bash
# Fuzzes the HTTP shim against its own OpenAPI document with schemathesis: a
# daemon on a temporary root with a known API key on a free loopback port; every
# response must be no 5xx and conform to the document (status code, content
# type, headers, body schema), and invalid input must be refused with a 4xx.
# Two bounded runs: every operation with generated input (SCHEMATHESIS_EXAMPLES
# test cases per operation, default 100), then the routes that take an id with
# ids that exist (SCHEMATHESIS_ID_EXAMPLES, default 10), so that their success
# answers are checked too.
#
# CI is deterministic: the generator's seed is fixed (SCHEMATHESIS_SEED,
# default below), so a run fails only when the shim changed, not when chance
# found an old case. To explore, run with SCHEMATHESIS_SEED=random (and more
# examples) and fix what it finds; docs/development.md says how.
#
# Usage: .ci/schemathesis.sh   (installs schemathesis into target/schemathesis-venv if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-100}
ID_EXAMPLES=${SCHEMATHESIS_ID_EXAMPLES:-10}
SEED=${SCHEMATHESIS_SEED:-20261206}
seed_opt=()
[ "$SEED" = random ] || seed_opt=(--seed "$SEED")
VENV=target/schemathesis-venv
if ! "$VENV/bin/python" -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$VERSION')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build --release --quiet
BIN=$PWD/target/release/agentgate
tmp=$(mktemp -d)
key="schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Agents that do nothing: generated submits must never run generated prompts.
cat > "$tmp/config.toml" <<'TOML'
[agents.shell]
command = ["true"]
[agents.claude-code-subscription]
command = ["true"]
[agents.claude-code-api]
command = ["true"]
[agents.claude-agent-sdk]
command = ["true"]
[agents.codex]
command = ["true"]
[agents.gemini]
command = ["true"]
TOML
AGENTGATE_ROOT="$tmp/root" AGENTGATE_SOCKET="$tmp/agentgate.sock" AGENTGATE_CONFIG="$tmp/config.toml" \
    AGENTGATE_API_KEY="$key" AGENTGATE_LOG=warn \
    "$BIN" daemon --http 127.0.0.1:0 --no-auto-process --min-memory 0 >"$tmp/daemon.log" 2>&1 &
daemon=$!
cleanup() {
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

addr=""
for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*"httpAddr": *"\([^"]*\)".*/\1/p' "$tmp/root/daemon.json" 2>/dev/null || true)
    [ -n "$addr" ] && break
    kill -0 "$daemon" 2>/dev/null || { cat "$tmp/daemon.log"; exit 1; }
    sleep 0.05
done
[ -n "$addr" ] || { echo "daemon did not come up"; cat "$tmp/daemon.log"; exit 1; }

api() { # METHOD PATH [BODY]: prints the response's data
    curl -sS -X "$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "http://$addr$2" |
        python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["data"]))'
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
submit() {
    api POST /api/v1/work-orders \
        "{\"taskPrompt\":\"seed $1\",\"agentType\":\"shell\",\"workspaceSource\":{\"type\":\"local\",\"path\":\"$tmp\"}}" |
        field '["id"]'
}

# One worker: hypothesis on Python 3.11 fails at random (a SystemError in
# `ast`) when two threads generate at once.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection
fuzz() { # EXAMPLES [options before `run`] -- [options after]
    local n=$1
    shift
    local pre=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    "$VENV/bin/python" -m schemathesis.cli "${pre[@]}" run "http://$addr/api/v1/openapi.json" \
        --header "Authorization: Bearer $key" \
        --checks "$checks" \
        --phases examples,coverage,fuzzing \
        --max-examples "$n" \
        --request-timeout 10 \
        --workers 1 \
        --suppress-health-check all \
        --generation-database none \
        "${seed_opt[@]}" \
        --no-color --report har --report-dir "$tmp/report" "$@"
}

status=0
echo "== every operation, generated input =="
fuzz "$EXAMPLES" || status=$?
# Real ids, made after the first run (which purges at random): a work order
# that ran (and its run), and a queued one for each route that changes one.
done_id=$(submit done)
run_id=$(api POST "/api/v1/work-orders/$done_id/runs" | field '["runId"]')
for _ in $(seq 1 200); do
    [ "$(api GET "/api/v1/work-orders/$done_id" | field '["status"]')" = succeeded ] && break
    sleep 0.05
done
queued_id=$(submit queued)
cancel_id=$(submit cancel)
delete_id=$(submit delete)
kill_id=$(submit kill)
start_id=$(submit start)
# Profiles to change, check and delete.
api POST /api/v1/profiles '{"name":"st-edit","loopStrategy":{"mode":"fixed","maxIterations":4}}' >/dev/null
api POST /api/v1/profiles '{"name":"st-gone"}' >/dev/null

ids=(
    "GET /api/v1/work-orders/{id}=id=$done_id"
    "GET /api/v1/work-orders/{id}/audit=id=$done_id"
    "DELETE /api/v1/work-orders/{id}=id=$delete_id"
    "POST /api/v1/work-orders/{id}/cancel=id=$cancel_id"
    "POST /api/v1/work-orders/{id}/kill=id=$kill_id"
    "POST /api/v1/work-orders/{id}/runs=id=$start_id"
    "GET /api/v1/queue/position/{id}=id=$queued_id"
    "GET /api/v1/runs/{id}=id=$run_id"
    "GET /api/v1/runs/{id}/config=id=$run_id"
    "GET /api/v1/runs/{id}/stream=id=$run_id"
    "GET /api/v1/audit/runs/{id}=id=$run_id"
    "GET /api/v1/audit/runs/{id}/snapshots=id=$run_id"
    "GET /api/v1/audit/runs/{id}/changes=id=$run_id"
    "GET /api/v1/profiles/{name}=name=default"
    "PUT /api/v1/profiles/{name}=name=st-edit"
    "POST /api/v1/profiles/{name}/validate=name=st-edit"
    "DELETE /api/v1/profiles/{name}=name=st-gone"
)
for entry in "${ids[@]}"; do
    IFS='=' read -r name param value <<<"$entry"
    printf '[[operations]]\ninclude-name = "%s"\nparameters = { "path.%s" = "%s" }\n' "$name" "$param" "$value"
done > "$tmp/ids.toml"
echo "== the routes that take an id, with ids that exist =="
fuzz "$ID_EXAMPLES" --config-file "$tmp/ids.toml" -- --include-path-regex '\{(id|name)\}' || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- daemon log ---"
    tail -50 "$tmp/daemon.log"
fi
if [ -n "${SCHEMATHESIS_KEEP_REPORT:-}" ]; then
    cp -r "$tmp/report" "$SCHEMATHESIS_KEEP_REPORT"
fi
exit "$status"
