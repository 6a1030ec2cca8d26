#!/usr/bin/env bash
# Builds the C tests against include/odp.h and the debug library, runs each against its own
# local collector, under valgrind unless VALGRIND=0. SANITIZE=address (ASan + UBSan) or
# SANITIZE=thread (TSan) builds the tests with a sanitizer instead of using valgrind.
# Also checks the header compiles as C++.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIB=${LIB:-target/debug}
OUT=target/c-tests
CC=${CC:-cc}
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -g -Iinclude"
LDEXTRA=""
case "${SANITIZE:-}" in
    "") ;;
    address) CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
             export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
             export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
             VALGRIND=0 ;;
    thread)  # The library must be built with -Zsanitizer=thread (make test-sanitize does it): a
             # plain build hides its futex-based locks from TSan and every hand-off looks like a
             # race. gcc's libtsan lacks entry points newer LLVMs emit, so link the TSan runtime
             # of the same Rust toolchain instead.
             LIB=${LIB_TSAN:-target/tsan/x86_64-unknown-linux-gnu/debug}
             ln -sf libodp.so "$LIB/libodp.so.0"
             rt="$(rustc +nightly --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/lib/librustc-nightly_rt.tsan.a"
             LDEXTRA="-Wl,--whole-archive $rt -Wl,--no-whole-archive -lstdc++ -ldl -lm"
             export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66}
             VALGRIND=0 ;;
    *) echo "SANITIZE must be address or thread" >&2; exit 2 ;;
esac
OUT=$OUT/${SANITIZE:-valgrind}
mkdir -p "$OUT"

g++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ include/odp.h
echo "include/odp.h compiles as C++"

# shellcheck source=examples/collector.sh
. examples/collector.sh

run_with_collector() {
    local name=$1
    local events="$OUT/$name.events.jsonl"
    rm -f "$events"
    COLLECTOR=${COLLECTOR:-target/debug/examples/collector} start_collector "$OUT/$name.collector" \
        --events-out "$events" --quiet
    local pid=$COLLECTOR_PID url=$COLLECTOR_URL
    trap 'kill $pid 2>/dev/null || true' RETURN
    local runner=()
    if [ "${VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
        # A forked child owns memory of parent threads that do not exist in it and can never be
        # freed there; for test_fork, check memory errors but not leaks.
        local leaks=full
        [ "$name" = test_fork ] && leaks=no
        runner=(valgrind -q --error-exitcode=99 --leak-check=$leaks --errors-for-leak-kinds=definite
                --show-leak-kinds=definite --fair-sched=yes)
    fi
    local env=()
    # The fork test's children own memory of parent threads that never run in them (see above).
    [ "$name" = test_fork ] && env=(ASAN_OPTIONS="detect_leaks=0")
    [ -n "${SANITIZE:-}" ] && env+=(ODP_TEST_PER_THREAD=10000)
    env "${env[@]}" ODP_COLLECTOR_URL="$url" ODP_COLLECTOR_EVENTS="$events" "${runner[@]}" "$OUT/$name"
    # Whatever the test did, the collector must never have seen an event twice.
    python3 - "$url" <<'PY'
import json, sys, urllib.request
report = json.load(urllib.request.urlopen(sys.argv[1] + "/_received"))
if report["duplicates"]:
    sys.exit(f"the collector received {report['duplicates']} duplicate events")
PY
}

status=0
for src in tests/c/test_*.c; do
    name=$(basename "$src" .c)
    if [ "${SANITIZE:-}" = thread ] && [ "$name" = test_fork ]; then
        echo "$name: skipped under TSan (it does not support fork() in a multithreaded process)"
        continue
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS -pthread "$src" -o "$OUT/$name" $LDEXTRA -L"$LIB" -lodp -Wl,-rpath,"$PWD/$LIB"
    if ! run_with_collector "$name"; then
        echo "$name FAILED" >&2
        status=1
    fi
done
exit $status
