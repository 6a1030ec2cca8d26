# Sourced by every script that needs a local collector (the demo, the quickstart runners, the C
# and packaging tests).
#
#   start_collector PREFIX [COLLECTOR FLAGS...]
#
# Starts $COLLECTOR (default target/release/examples/collector) on a free 127.0.0.1 port, with
# its stdout in PREFIX.out and its stderr in PREFIX.log, waits until it listens, and sets
# COLLECTOR_URL and COLLECTOR_PID. Stopping it (kill "$COLLECTOR_PID") is the caller's job.
start_collector() {
    local prefix=$1
    shift
    "${COLLECTOR:-target/release/examples/collector}" --port 0 "$@" > "$prefix.out" 2> "$prefix.log" &
    COLLECTOR_PID=$!
    COLLECTOR_URL=""
    local _
    for _ in $(seq 1 200); do
        COLLECTOR_URL=$(sed -n 's/^listening on //p' "$prefix.out")
        [ -n "$COLLECTOR_URL" ] && return 0
        sleep 0.05
    done
    echo "the collector did not start: $(cat "$prefix.log")" >&2
    return 1
}
