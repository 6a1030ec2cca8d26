#!/usr/bin/env bash
# `make fuzz`: runs each fuzz target for FUZZ_SECONDS (default 60) from the committed seeds
# plus the local corpus. A crasher is copied to fuzz/regressions/<target>/, where
# tests/fuzz_regressions.rs replays it in every `make test` from then on: commit it.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
status=0
for target in event_input config_datafile; do
    mkdir -p "corpus/$target" "artifacts/$target" "regressions/$target"
    echo "==> fuzzing $target for ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
            -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 2>&1 | tee "artifacts/$target.log" |
            grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|artifact_prefix)"; then
        :
    fi
    if compgen -G "artifacts/$target/crash-*" > /dev/null || compgen -G "artifacts/$target/oom-*" > /dev/null ||
       compgen -G "artifacts/$target/timeout-*" > /dev/null; then
        cp artifacts/"$target"/{crash,oom,timeout}-* "regressions/$target/" 2>/dev/null || true
        echo "$target found a failing input: copied to fuzz/regressions/$target/ (commit it)" >&2
        status=1
    fi
done
exit $status
