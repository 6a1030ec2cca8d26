#!/usr/bin/env bash
# Installs libodp into a temporary prefix with bindings/c/install.sh, checks the installed tree
# (files, symlinks, SONAME, pkg-config and CMake metadata), then builds the C quickstart against
# it with pkg-config (shared and static) and with CMake's find_package(odp) (C shared, C static,
# C++), builds the C++ quickstart with pkg-config, and runs every program against a local
# collector, checking that each one's event arrived.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CC=${CC:-cc}
CXX=${CXX:-g++}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*" >&2; }
check() {  # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

command -v pkg-config >/dev/null || { echo "pkg-config is missing (apt-get install pkgconf)" >&2; exit 1; }
command -v cmake >/dev/null || { echo "cmake is missing (apt-get install cmake)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/odp-packaging.XXXXXX")
collector_pid=""
cleanup() {
    if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

VERSION=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ { sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit }
' Cargo.toml)
MAJOR=${VERSION%%.*}
MINOR=${VERSION#*.}; MINOR=${MINOR%%.*}

cargo build --release --example collector --quiet

echo "==> install into a temporary prefix"
PREFIX=$TMP/prefix
bash bindings/c/install.sh "$PREFIX"
LIB=$PREFIX/lib

echo "==> the installed tree"
check "lib/libodp.so.$VERSION is a file" test -f "$LIB/libodp.so.$VERSION" -a ! -L "$LIB/libodp.so.$VERSION"
check "lib/libodp.so.$MAJOR -> libodp.so.$VERSION" test "$(readlink "$LIB/libodp.so.$MAJOR")" = "libodp.so.$VERSION"
check "lib/libodp.so -> libodp.so.$MAJOR" test "$(readlink "$LIB/libodp.so")" = "libodp.so.$MAJOR"
check "lib/libodp.a" test -f "$LIB/libodp.a"
check "include/odp.h is the repo's" cmp -s include/odp.h "$PREFIX/include/odp.h"
check "include/odp.hpp is the repo's" cmp -s include/odp.hpp "$PREFIX/include/odp.hpp"
check "lib/pkgconfig/odp.pc" test -f "$LIB/pkgconfig/odp.pc"
check "lib/cmake/odp/odpConfig.cmake" test -f "$LIB/cmake/odp/odpConfig.cmake"
check "lib/cmake/odp/odpConfigVersion.cmake" test -f "$LIB/cmake/odp/odpConfigVersion.cmake"
soname=$(readelf -d "$LIB/libodp.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "SONAME is libodp.so.$MAJOR (got '$soname')" test "$soname" = "libodp.so.$MAJOR"
declared=$(grep -o '\bodp_[a-z_]*(' include/odp.h | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$LIB/libodp.so.$VERSION" | awk '{print $3}' | grep '^odp_' | sort -u)
check "the .so exports every function odp.h declares ($(wc -w <<< "$declared"))" \
    test -n "$declared" -a -z "$(comm -23 <(echo "$declared") <(echo "$exported"))"

echo "==> pkg-config metadata"
export PKG_CONFIG_PATH=$LIB/pkgconfig
check "pkg-config --modversion odp = $VERSION" test "$(pkg-config --modversion odp)" = "$VERSION"
cflags=$(pkg-config --cflags odp | xargs)
libs=$(pkg-config --libs odp | xargs)
check "pkg-config --cflags odp = -I\$PREFIX/include ($cflags)" test "$cflags" = "-I$PREFIX/include"
check "pkg-config --libs odp = -L\$PREFIX/lib -lodp ($libs)" test "$libs" = "-L$LIB -lodp"
static_libs=$(pkg-config --static --libs odp)
check "pkg-config --static --libs odp adds the system libraries ($static_libs)" \
    grep -q -- "-lpthread" <<< "$static_libs"

echo "==> a collector on 127.0.0.1"
# shellcheck source=examples/collector.sh
. examples/collector.sh
start_collector "$TMP/collector" --events-out /dev/null --quiet
collector_pid=$COLLECTOR_PID
url=$COLLECTOR_URL
port=${url##*:}
echo "    $url"

received() {  # GET /_received, body only
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /_received HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    reply=$(cat <&3)
    exec 3<&-
    printf '%s' "${reply#*$'\r\n\r\n'}"
}
event_count() { received | sed -n 's/.*"event_count":\([0-9]*\).*/\1/p'; }

runs=0
run_quickstart() {  # run_quickstart NAME BINARY: runs it, checks its exit code and its event
    local name=$1 bin=$2
    if "$bin" "$url" > "$TMP/$name.out" 2>&1; then
        runs=$((runs + 1))
        pass "$name ran and exited 0"
    else
        fail "$name exited non-zero:"
        sed 's/^/     /' "$TMP/$name.out" >&2
        return
    fi
    check "$name's event arrived (collector has $runs)" test "$(event_count)" = "$runs"
}

echo "==> examples/c/quickstart.c with pkg-config"
# shellcheck disable=SC2046 # pkg-config output is meant to split
if $CC -std=c99 -Wall -Wextra -Werror -pedantic examples/c/quickstart.c -o "$TMP/qs-pkgconfig" \
        $(pkg-config --cflags --libs odp) -Wl,-rpath,"$LIB"; then
    pass "quickstart.c builds with pkg-config"
    check "it needs libodp.so.$MAJOR" grep -q "NEEDED.*\[libodp.so.$MAJOR\]" <<< "$(readelf -d "$TMP/qs-pkgconfig")"
    check "it loads the installed library" grep -q "libodp.so.$MAJOR => $LIB/libodp.so.$MAJOR" <<< "$(ldd "$TMP/qs-pkgconfig")"
    run_quickstart "quickstart (pkg-config, shared)" "$TMP/qs-pkgconfig"
else
    fail "quickstart.c builds with pkg-config"
fi

echo "==> examples/c/quickstart.c with pkg-config --static"
# shellcheck disable=SC2046
if $CC -std=c99 -Wall -Wextra -Werror -pedantic examples/c/quickstart.c -o "$TMP/qs-static" \
        $(pkg-config --cflags odp) -L"$LIB" -Wl,-Bstatic -lodp -Wl,-Bdynamic \
        $(pkg-config --static --libs-only-l odp | sed 's/-lodp//'); then
    pass "quickstart.c links libodp.a with pkg-config --static"
    check "it does not need libodp.so" bash -c "! readelf -d '$TMP/qs-static' | grep -q 'NEEDED.*libodp'"
    run_quickstart "quickstart (pkg-config, static)" "$TMP/qs-static"
else
    fail "quickstart.c links libodp.a with pkg-config --static"
fi

echo "==> examples/cpp/quickstart.cpp with pkg-config"
# shellcheck disable=SC2046
if $CXX -std=c++17 -Wall -Wextra -Werror -pedantic examples/cpp/quickstart.cpp -o "$TMP/qs-cpp" \
        $(pkg-config --cflags --libs odp) -Wl,-rpath,"$LIB"; then
    pass "quickstart.cpp builds with pkg-config"
    run_quickstart "quickstart.cpp (pkg-config)" "$TMP/qs-cpp"
else
    fail "quickstart.cpp builds with pkg-config"
fi

echo "==> CMake: find_package(odp $MAJOR.$MINOR) and odp::odp / odp::static"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if cmake -S tests/packaging/consumer -B "$TMP/consumer" "${generator[@]}" \
        -DCMAKE_PREFIX_PATH="$PREFIX" -DODP_REQUIRE_VERSION="$MAJOR.$MINOR" > "$TMP/cmake.log" 2>&1 \
        && cmake --build "$TMP/consumer" >> "$TMP/cmake.log" 2>&1; then
    pass "the CMake consumer project configures and builds"
    check "find_package found the installed package" \
        grep -q "found odp $VERSION in $LIB/cmake/odp" "$TMP/cmake.log"
    check "the CMake build runs from the install tree (RPATH)" \
        grep -q "libodp.so.$MAJOR => $LIB/libodp.so.$MAJOR" <<< "$(ldd "$TMP/consumer/quickstart_c")"
    run_quickstart "quickstart_c (CMake, odp::odp)" "$TMP/consumer/quickstart_c"
    run_quickstart "quickstart_static (CMake, odp::static)" "$TMP/consumer/quickstart_static"
    run_quickstart "quickstart_cpp (CMake, odp::odp)" "$TMP/consumer/quickstart_cpp"
else
    fail "the CMake consumer project configures and builds:"
    sed 's/^/     /' "$TMP/cmake.log" >&2
fi
check "find_package(odp 99) is refused" bash -c "! cmake -S tests/packaging/consumer -B '$TMP/consumer99' \
    -DCMAKE_PREFIX_PATH='$PREFIX' -DODP_REQUIRE_VERSION=99 > '$TMP/cmake99.log' 2>&1"
check "... saying which version it found" grep -q "$VERSION" "$TMP/cmake99.log"

echo "==> DESTDIR staging"
DESTDIR=$TMP/stage bash bindings/c/install.sh /opt/odp > /dev/null
check "files land under DESTDIR" test -f "$TMP/stage/opt/odp/lib/libodp.so.$VERSION"
check "odp.pc names the final prefix" grep -qx "prefix=/opt/odp" "$TMP/stage/opt/odp/lib/pkgconfig/odp.pc"

echo
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
