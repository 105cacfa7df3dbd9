#!/bin/sh
# make install's products work: the header, the shared library through
# pkg-config, and the CMake package through find_package.
set -eu
build=$1 src=$2 fixtures=$3
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cmake --install "$build" --prefix "$t/prefix" >/dev/null
libdir=$(ls -d "$t"/prefix/lib*/ | head -1)
test -f "$t/prefix/include/shardload.h"
test -f "$libdir/pkgconfig/shardload.pc"
test -f "$libdir/cmake/shardload/shardloadConfig.cmake"
test -x "$t/prefix/bin/shardload"
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --modversion shardload
cc -o "$t/pc_consumer" "$src/tests/install/consumer.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs shardload) -Wl,-rpath,"$libdir"
"$t/pc_consumer" "$fixtures/npy_many_shards_37" | grep -qx "37 shards"
cmake -S "$src/tests/install" -B "$t/cmake_consumer" -DCMAKE_PREFIX_PATH="$t/prefix" >/dev/null
cmake --build "$t/cmake_consumer" >/dev/null
"$t/cmake_consumer/consumer" "$fixtures/npy_many_shards_37" | grep -qx "37 shards"
echo "install: header, pkg-config and CMake package all work"
# pkg-config: --cflags names our headers only (no MPI or HDF5 include paths
# leaking from Requires.private); a static consumer links from --static
# --libs alone (cJSON, OpenMP and every codec in Libs.private)
pc() { PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config "$@"; }
cflags=$(pc --cflags shardload)
case "$cflags" in
  *openmpi*|*hdf5*) echo "FAIL: pkg-config --cflags leaks private paths: $cflags"; exit 1 ;;
esac
libs=$(pc --static --libs shardload | sed 's/-lshardload/-l:libshardload.a/')
cc -o "$t/static_consumer" "$src/tests/install/consumer.c" $cflags $libs
if readelf -d "$t/static_consumer" | grep -q 'libshardload'; then
  echo "FAIL: the static consumer needs libshardload.so"; exit 1
fi
"$t/static_consumer" "$fixtures/npy_many_shards_37" | grep -qx "37 shards"
# the README's C example, as it stands there, warning-free and run
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$src/README.md" > "$t/readme.c"
cc -std=c11 -Wall -Wextra -Werror -o "$t/readme" "$t/readme.c" $(pc --cflags --libs shardload) \
  -Wl,-rpath,"$libdir"
SHARDLOAD_MPI=0 "$t/readme" "$fixtures/npy_many_shards_37" | grep -q '^rank 0: rows \[0, '
SHARDLOAD_MPI=0 "$t/readme" "$t/missing" 2>&1 | grep -q 'missing'
echo "ok: pkg-config (shared and static), find_package, the README's example"
