#!/usr/bin/env bash
# Mesa's lavapipe (software Vulkan on the CPU), for the webgpu backend's tests (Dawn talks to GPUs
# through Vulkan; lavapipe stands in for a GPU in CI). Dawn needs Mesa >= 25: Debian bookworm's own
# 22.3 lacks the shaderUniform*ArrayDynamicIndexing features Dawn requires, so on bookworm the
# packages come from bookworm-backports. Installs only where apt exists and we are root; otherwise
# says what is missing (the webgpu tests then skip with that message). Never fails the caller.
set -uo pipefail
say() { echo "[lavapipe] $*"; }

mesa_version() { dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null; }
recent_enough() {
  local v; v=$(mesa_version) || return 1
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 25 && dpkg-query -W libvulkan1 >/dev/null 2>&1
}

recent_enough && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  say "Mesa >= 25 lavapipe (mesa-vulkan-drivers, libvulkan1) is not installed and cannot be here (needs apt and root): webgpu tests will skip"
  exit 0
fi
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
target=()
if [ "$codename" = bookworm ]; then
  list=/etc/apt/sources.list.d/mwt-bookworm-backports.sources
  if [ ! -f "$list" ]; then
    # The same Debian mirror that is already configured, so that a machine limited to it still works.
    mirror=$(grep -rhE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ')
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${mirror:-http://deb.debian.org/debian}" >"$list"
  fi
  target=(-t bookworm-backports)
fi
say "installing mesa-vulkan-drivers and libvulkan1 ${target[*]}"
if apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null; then
  recent_enough || say "installed Mesa $(mesa_version) is older than 25: Dawn will find no adapter and webgpu tests will skip"
else
  say "apt-get could not install lavapipe: webgpu tests will skip"
fi
exit 0
