#!/usr/bin/env bash
# Builds and runs the C++ wrapper's tests (tests/cpp, GoogleTest + ctest) against libodp and the
# collector from cargo's release build, then once more under valgrind (VALGRIND=0 skips that).
# LIB=target/debug uses the debug build instead; set
# SKIP_CARGO=1 when the library and collector are already built.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIB=${LIB:-target/release}
BUILD=${BUILD:-target/cpp-tests}

if [ "${SKIP_CARGO:-0}" != 1 ]; then
    if [ "$LIB" = target/debug ]; then
        cargo build --lib --example collector
    else
        cargo build --release --lib --example collector
    fi
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ -f "$BUILD/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}\$" "$BUILD/CMakeCache.txt"; then
    rm -rf "$BUILD"
fi
cmake -S tests/cpp -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DODP_LIB_DIR="$PWD/$LIB" -DODP_COLLECTOR="$PWD/$LIB/examples/collector" > "$BUILD.cmake.log" \
    || { cat "$BUILD.cmake.log"; exit 1; }
cmake --build "$BUILD"
ctest --test-dir "$BUILD" --output-on-failure -j "${CTEST_JOBS:-2}"

# Once more under valgrind (leaks and memory errors in the wrapper or behind it); VALGRIND=0 skips.
if [ "${VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
    echo "==> the same tests under valgrind"
    for bin in odp_cpp_tests odp_cpp_noexcept; do
        ODP_COLLECTOR="$PWD/$LIB/examples/collector" valgrind -q --error-exitcode=99 \
            --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --fair-sched=yes "$BUILD/$bin" --gtest_brief=1
    done
fi
