#!/usr/bin/env bash
# Runs examples/go/quickstart against the local collector and checks that the event arrived.
# Needs `cargo build --release --lib --example collector` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
(cd examples/go && go run ./quickstart "$url")
n=$(grep -c '"action":"purchased"' "$OUT/events.jsonl" || true)
echo "$n event(s) arrived at the collector"
[ "$n" -eq 1 ]
