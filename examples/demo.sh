#!/usr/bin/env bash
# `make demo`: build libodp, start the local ODP-compatible collector on 127.0.0.1, send the
# quickstart event from a C program, and show what arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/demo
mkdir -p "$OUT"

echo "==> building libodp (release) and the collector"
cargo build --release --lib --example collector --quiet
ls -l target/release/libodp.so target/release/libodp.a | awk '{print "    " $5 " bytes  " $9}'

echo "==> starting the collector on 127.0.0.1"
rm -f "$OUT/events.jsonl"
target/release/examples/collector --port 0 --events-out "$OUT/events.jsonl" \
    > "$OUT/collector.out" 2> "$OUT/collector.log" &
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$OUT/collector.out")
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { echo "the collector did not start" >&2; exit 1; }
echo "    $url  (datafile: $url/datafiles/AbC123.json)"

echo "==> compiling and running examples/c/quickstart.c"
cc -std=c99 -Wall -Wextra -Werror -Iinclude examples/c/quickstart.c -o "$OUT/quickstart" \
    -Ltarget/release -lodp -Wl,-rpath,"$PWD/target/release"
"$OUT/quickstart" "$url" | sed 's/^/    /'

sleep 0.2  # the collector logs requests every 100 ms
echo "==> what the collector received"
grep -v "^collector: POST .*/v3/events, datafile" "$OUT/collector.log" | sed 's/^collector: /    /' || true
n=$(wc -l < "$OUT/events.jsonl")
echo "==> $n event(s) arrived"
[ "$n" -ge 1 ]
