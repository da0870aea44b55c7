#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Node.js, no node_modules and no
# network into one gitignored folder, .gpu/ (well under the 64 MiB that may travel):
#   node.xz                   this machine's Node binary (glibc only), xz-compressed
#   gpu-check.mjs             bench/gpu-check.ts and everything it imports, one esbuild bundle
#   webgpu.test.mjs           test/core/webgpu.test.ts, bundled the same way
#   dist/linux-x64/dawn.node.xz   Dawn's Node bindings from the `webgpu` package (beside the bundles,
#                             where the package's loader looks for them)
#   mwt_native.node.xz        the native kernels built for -march=x86-64-v3 (any AVX2 machine)
#   libvulkan1_*.deb          Debian's Vulkan loader, in case the GPU machine has none
# Run here, from a checkout with node_modules (npm ci), g++ and apt-get:
#   bash scripts/gpu-pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
say() { echo "[gpu-pack] $*"; }
[ -d node_modules/webgpu ] || { say "node_modules missing: run npm ci first"; exit 1; }
node_bin=$(command -v node)
node_id="$(node --version) $(sha256sum "$node_bin" | cut -d' ' -f1)"
# Compressing the 99 MB binary takes minutes on a busy machine: keep it when it is the same node.
if [ -f "$out/node.xz" ] && [ "$(cat "$out/node.id" 2>/dev/null)" = "$node_id" ]; then
  mv "$out/node.xz" "$out.node.xz.keep"
fi
rm -rf "$out"
mkdir -p "$out/dist/linux-x64"
say "node $(node --version) from $node_bin"
if [ -f "$out.node.xz.keep" ]; then
  mv "$out.node.xz.keep" "$out/node.xz"
else
  xz -T0 -6 -c "$node_bin" >"$out/node.xz"
fi
echo "$node_id" >"$out/node.id"

# ESM output with CommonJS packages inside (tfjs' Node builds): give them a `require`.
banner="import { createRequire as mwtCreateRequire } from 'node:module'; const require = mwtCreateRequire(import.meta.url);"
for entry in bench/gpu-check.ts test/core/webgpu.test.ts; do
  name=$(basename "$entry" .ts).mjs
  node_modules/.bin/esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
    --banner:js="$banner" --log-level=warning --outfile="$out/$name"
done

xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$out/dist/linux-x64/dawn.node.xz"

# The native kernels for a generic AVX2 x86-64 (the GPU machine's CPU is not this one), built in a
# scratch copy of packages/native so that this checkout's own build stays as it is.
native="$out/native-build"
mkdir -p "$native"
cp -r packages/native/scripts packages/native/src packages/native/package.json "$native/"
# Without oneDNN: the GPU machine has no libdnnl, and the addon must load there on its own.
MWT_NATIVE_DNNL=0 MWT_NATIVE_MARCH=x86-64-v3 node "$native/scripts/build.mjs" --force --strict
xz -T0 -6 -c "$native/build/mwt_native.node" >"$out/mwt_native.node.xz"
rm -rf "$native"

# The Vulkan loader as a .deb for amd64 (unpacked with dpkg -x into a private prefix there).
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 || say "apt-get update failed; using whatever lists are cached"
debs=(libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2)
(cd "$out" && apt-get "${apt_opts[@]}" download "${debs[@]}" >/dev/null) || (cd "$out" && apt-get download "${debs[@]}" >/dev/null)
rm -rf "$lists"

git rev-parse HEAD >"$out/commit"
du -b "$out"/* "$out"/dist/linux-x64/* | sort -k2
say "total $(du -sb "$out" | cut -f1) bytes in $out/ (carry it: run(carry: [\".gpu\"]))"
