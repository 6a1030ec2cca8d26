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
# shellcheck source=examples/collector.sh
. examples/collector.sh
start_collector "$OUT/collector" --events-out "$OUT/events.jsonl"
trap 'kill $COLLECTOR_PID 2>/dev/null || true' EXIT
url=$COLLECTOR_URL
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
