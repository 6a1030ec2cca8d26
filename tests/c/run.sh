#!/usr/bin/env bash
# Builds the C tests against include/odp.h and the debug library, runs each against its own
# local collector, under valgrind unless VALGRIND=0. Also checks the header compiles as C++.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIB=${LIB:-target/debug}
OUT=target/c-tests
mkdir -p "$OUT"
CC=${CC:-cc}
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -g -Iinclude"

g++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ include/odp.h
echo "include/odp.h compiles as C++"

run_with_collector() {
    local name=$1
    local events="$OUT/$name.events.jsonl"
    rm -f "$events"
    "$LIB/examples/collector" --port 0 --events-out "$events" --quiet > "$OUT/$name.collector.out" &
    local pid=$!
    trap 'kill $pid 2>/dev/null || true' RETURN
    local url=""
    for _ in $(seq 1 100); do
        url=$(sed -n 's/^listening on //p' "$OUT/$name.collector.out")
        [ -n "$url" ] && break
        sleep 0.05
    done
    [ -n "$url" ] || { echo "collector did not start" >&2; return 1; }
    local runner=()
    if [ "${VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
        runner=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
                --show-leak-kinds=definite --fair-sched=yes)
    fi
    ODP_COLLECTOR_URL="$url" ODP_COLLECTOR_EVENTS="$events" "${runner[@]}" "$OUT/$name"
}

status=0
for src in tests/c/test_*.c; do
    name=$(basename "$src" .c)
    $CC $CFLAGS -pthread "$src" -o "$OUT/$name" -L"$LIB" -lodp -Wl,-rpath,"$PWD/$LIB"
    if ! run_with_collector "$name"; then
        echo "$name FAILED" >&2
        status=1
    fi
done
exit $status
