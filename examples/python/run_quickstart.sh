#!/usr/bin/env bash
# Runs examples/python/quickstart.py against the local collector and checks that the event
# arrived. Needs `cargo build --release --lib --example collector` first.
#   run_quickstart.sh [PYTHON]   (default: python3; give a venv's python to use its libodp)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${1:-python3}
OUT=$(mktemp -d)
# shellcheck source=examples/collector.sh
. examples/collector.sh
start_collector "$OUT/collector" --events-out "$OUT/events.jsonl" --quiet
trap 'kill $COLLECTOR_PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
url=$COLLECTOR_URL
"$PYTHON" examples/python/quickstart.py "$url"
n=$(grep -c '"action":"purchased"' "$OUT/events.jsonl" || true)
echo "$n event(s) arrived at the collector"
[ "$n" -eq 1 ]
