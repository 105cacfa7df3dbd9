#!/bin/sh
# make install's Python package: installed under a temporary prefix, found
# there by Debian's python3 (with that prefix's dist-packages on the path),
# and finding the installed library through its _config.py, not the build's.
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp" > "$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
site=$(ls -d "$tmp"/lib/python3*/dist-packages)
cd "$tmp"
env -u SHARDLOAD_LIBRARY PYTHONPATH="$site" /usr/bin/python3 - "$tmp" <<'PY'
import sys
import shardload
assert shardload.__file__.startswith(sys.argv[1]), shardload.__file__
assert shardload.library_path.startswith(sys.argv[1] + "/lib/"), shardload.library_path
print("ok:", shardload.__file__, shardload.library_path)
PY
