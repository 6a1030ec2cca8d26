#!/usr/bin/env bash
# Runs examples/go/quickstart against the local collector and checks that the event arrived.
# Needs `cargo build --release --lib --example collector` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$(mktemp -d)
# shellcheck source=examples/collector.sh
. examples/collector.sh
start_collector "$OUT/collector" --events-out "$OUT/events.jsonl" --quiet
trap 'kill $COLLECTOR_PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
url=$COLLECTOR_URL
(cd examples/go && go run ./quickstart "$url")
n=$(grep -c '"action":"purchased"' "$OUT/events.jsonl" || true)
echo "$n event(s) arrived at the collector"
[ "$n" -eq 1 ]
