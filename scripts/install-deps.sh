#!/bin/sh
# Installs the Debian 12 packages shardload needs, only those missing.
# Used by `make demo` and `make test`; safe to run again.
set -eu
pkgs="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-dev libcjson-dev
      libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev zlib1g-dev libdlpack-dev
      libcmocka-dev libbz2-dev libblosc-dev python3-zarr python3-dask fio python3-numpy python3-h5py clang libclang-rt-14-dev libomp-14-dev
      python3-pytest python3-mpi4py python3-torch iproute2 tmux"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: not root; run: sudo apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
