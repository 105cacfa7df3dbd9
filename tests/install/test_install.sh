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
