#!/usr/bin/env bash
# Installs what the native kernels build against, where it is missing: oneDNN's headers and library
# (Debian's libdnnl-dev), which run the convolutions several times faster than the addon's own
# kernels. Only as root on Debian/Ubuntu; elsewhere it says what is missing and the addon builds
# without it (same results, slower convolutions). MWT_NATIVE_DNNL=0 skips it.
set -euo pipefail

say() { echo "[native-deps] $*"; }

[ "${MWT_NATIVE_DNNL:-}" = 0 ] && exit 0
[ -f /usr/include/oneapi/dnnl/dnnl.hpp ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing oneDNN (libdnnl-dev) for the native convolutions"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libdnnl-dev >/dev/null || say "apt-get install libdnnl-dev failed: the addon builds without oneDNN"
else
  say "oneDNN missing (Debian: apt-get install libdnnl-dev as root): the addon builds without it, with slower convolutions"
fi
