#!/usr/bin/env bash
# Runs examples/python/quickstart.py against the local collector and checks that the event
# arrived. Needs `cargo build --release --lib --example collector` first.
#   run_quickstart.sh [PYTHON]   (default: python3; give a venv's python to use its libodp)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${1:-python3}
OUT=$(mktemp -d)
target/release/examples/collector --port 0 --events-out "$OUT/events.jsonl" --quiet \
    > "$OUT/collector.out" &
collector=$!
trap 'kill $collector 2>/dev/null || true; rm -rf "$OUT"' EXIT
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$OUT/collector.out")
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { echo "the collector did not start" >&2; exit 1; }
"$PYTHON" examples/python/quickstart.py "$url"
n=$(grep -c '"action":"purchased"' "$OUT/events.jsonl" || true)
echo "$n event(s) arrived at the collector"
[ "$n" -eq 1 ]
