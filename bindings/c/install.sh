#!/usr/bin/env bash
# Builds libodp (release) and installs it for C and C++ programs:
#
#   bindings/c/install.sh PREFIX          (`make install PREFIX=...`; DESTDIR=... stages it)
#
#   PREFIX/lib/libodp.so.X.Y.Z            the shared library (SONAME libodp.so.X)
#   PREFIX/lib/libodp.so.X -> libodp.so.X.Y.Z
#   PREFIX/lib/libodp.so   -> libodp.so.X
#   PREFIX/lib/libodp.a                   the static library
#   PREFIX/include/odp.h, odp.hpp         the C API and the C++ wrapper
#   PREFIX/lib/pkgconfig/odp.pc           pkg-config --cflags --libs odp
#   PREFIX/lib/cmake/odp/odpConfig.cmake  find_package(odp) -> odp::odp, odp::static
#   PREFIX/lib/cmake/odp/odpConfigVersion.cmake
#
# The version comes from Cargo.toml only. Environment: DESTDIR (staging root, not written into
# the installed files), CARGO (default cargo), INSTALL_STRIP=1 (strip debug information from the
# installed libraries; the release profile keeps line tables, so they are large otherwise).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # bash 5.2: '&' in ${x//a/b} is literal again

die() { echo "install.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: bindings/c/install.sh PREFIX"
PREFIX=$1
case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd -P)/$PREFIX" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || die "refusing to install into /"
DESTDIR=${DESTDIR:-}
CARGO=${CARGO:-cargo}

HERE="$(cd "$(dirname "$0")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
cd "$ROOT"

# The one source of the version: [package] version in Cargo.toml.
VERSION=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ { sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit }
' Cargo.toml)
[[ "$VERSION" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "no X.Y.Z version in Cargo.toml (got '$VERSION')"
MAJOR=${BASH_REMATCH[1]}
MINOR=${BASH_REMATCH[2]}

"$CARGO" build --release --lib

# Which system libraries the static library needs, as rustc reports them. They depend on the
# dependencies and the toolchain, not on libodp's own code, so they are cached under that key:
# asking rustc means a build with other flags, which the next plain `cargo build` redoes.
CACHE=target/release/.odp-native-static-libs
KEY=$(cat Cargo.toml Cargo.lock <("${RUSTC:-rustc}" -vV 2>/dev/null) | cksum | cut -d' ' -f1)
NATIVE_LIBS=""
if [ -f "$CACHE" ] && [ "$(sed -n 1p "$CACHE")" = "$KEY" ]; then
    NATIVE_LIBS=$(sed -n 2p "$CACHE")
fi
if [ -z "$NATIVE_LIBS" ]; then
    LOG=target/install-native-libs.log
    if ! "$CARGO" rustc --release --lib -- --print native-static-libs > "$LOG" 2>&1; then
        cat "$LOG" >&2
        die "cargo rustc --print native-static-libs failed"
    fi
    NATIVE_LIBS=$(sed -n 's/^note: native-static-libs: //p' "$LOG" | tail -n 1)
    [ -n "$NATIVE_LIBS" ] || die "cargo did not report native-static-libs (see $LOG)"
    printf '%s\n%s\n' "$KEY" "$NATIVE_LIBS" > "$CACHE"
fi

# The generated header must describe this very build.
HEADER_VERSION=$(sed -n 's/^#define ODP_VERSION "\(.*\)"$/\1/p' include/odp.h)
[ "$HEADER_VERSION" = "$VERSION" ] || die "include/odp.h says $HEADER_VERSION, Cargo.toml says $VERSION"

SO=target/release/libodp.so
A=target/release/libodp.a
[ -f "$SO" ] && [ -f "$A" ] || die "missing $SO or $A after the build"

# CMake wants library names (pthread), and passes other flags as they are.
CMAKE_NATIVE_LIBS=""
for flag in $NATIVE_LIBS; do
    case "$flag" in
        -l*) item=${flag#-l} ;;
        *) item=$flag ;;
    esac
    CMAKE_NATIVE_LIBS="${CMAKE_NATIVE_LIBS:+$CMAKE_NATIVE_LIBS;}$item"
done
SIZEOF_VOID_P=$(( $(getconf LONG_BIT) / 8 ))

render() {  # render TEMPLATE DEST MODE
    local text
    text=$(<"$1")
    text=${text//@PREFIX@/"$PREFIX"}
    text=${text//@VERSION@/"$VERSION"}
    text=${text//@MAJOR@/"$MAJOR"}
    text=${text//@MINOR@/"$MINOR"}
    text=${text//@LIBS_PRIVATE@/"$NATIVE_LIBS"}
    text=${text//@CMAKE_NATIVE_LIBS@/"$CMAKE_NATIVE_LIBS"}
    text=${text//@SIZEOF_VOID_P@/"$SIZEOF_VOID_P"}
    if [[ "$text" =~ @[A-Z_]+@ ]]; then die "unreplaced ${BASH_REMATCH[0]} in $1"; fi
    printf '%s\n' "$text" > "$2.tmp"
    chmod "$3" "$2.tmp"
    mv -f "$2.tmp" "$2"
}

DEST="$DESTDIR$PREFIX"
LIBDIR="$DEST/lib"
install -d "$LIBDIR" "$DEST/include" "$LIBDIR/pkgconfig" "$LIBDIR/cmake/odp"

install -m 0755 "$SO" "$LIBDIR/libodp.so.$VERSION"
ln -sfn "libodp.so.$VERSION" "$LIBDIR/libodp.so.$MAJOR"
ln -sfn "libodp.so.$MAJOR" "$LIBDIR/libodp.so"
install -m 0644 "$A" "$LIBDIR/libodp.a"
install -m 0644 include/odp.h include/odp.hpp "$DEST/include/"
if [ "${INSTALL_STRIP:-0}" = 1 ]; then
    strip --strip-debug "$LIBDIR/libodp.so.$VERSION" "$LIBDIR/libodp.a"
fi
render "$HERE/odp.pc.in" "$LIBDIR/pkgconfig/odp.pc" 0644
render "$HERE/odpConfig.cmake.in" "$LIBDIR/cmake/odp/odpConfig.cmake" 0644
render "$HERE/odpConfigVersion.cmake.in" "$LIBDIR/cmake/odp/odpConfigVersion.cmake" 0644

echo "installed libodp $VERSION into $DEST"
echo "  lib/libodp.so.$VERSION (SONAME libodp.so.$MAJOR), libodp.so.$MAJOR, libodp.so, libodp.a"
echo "  include/odp.h, include/odp.hpp, lib/pkgconfig/odp.pc, lib/cmake/odp/"
