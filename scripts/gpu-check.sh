#!/usr/bin/env bash
# The webgpu backend on a real GPU, measured against PyTorch on the same machine. Runs from the repo
# root of a machine that has an NVIDIA GPU (or any Vulkan GPU), python3 with torch, and .gpu/ as
# scripts/gpu-pack.sh made it; it needs no Node.js install, no node_modules and no network:
#   1. unpacks node, Dawn's bindings and the native kernels from .gpu/; the Vulkan loader too if the
#      system has none (dpkg -x into .gpu/vulkan, never into /);
#   2. prints nvidia-smi, the Vulkan drivers (ICDs) present and the adapter Dawn sees;
#   3. runs test/core/webgpu.test.ts on that adapter (gradient checks, one step vs native);
#   4. times one modular and one standard training step of full-width vgg16 and resnet18 on 32x32x3
#      at batch 128: ours on webgpu, PyTorch (CUDA if it has it, else CPU, and says so), ours on native;
#      and counts the host's work in a webgpu modular step (tfjs kernels, dispatches, submits per step);
#   5. profiles one webgpu modular step by tfjs kernel (device time from timestamp queries).
# Every part runs under `timeout` within one overall budget (GPU_CHECK_BUDGET_S, default 450 s), the
# last 25 s of it kept for the summary.
# Writes $OUT/gpu-check.log and $OUT/gpu-check.json ($OUT defaults to .gpu/out).
#   bash scripts/gpu-check.sh
#   GPU_CHECK_BATCH=8 GPU_CHECK_MODELS="vgg16" bash scripts/gpu-check.sh   (a quick run, e.g. on lavapipe)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pack=$root/.gpu
OUT=${OUT:-$pack/out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1

started=$(date +%s)
budget=${GPU_CHECK_BUDGET_S:-450}
summary_reserve=25
batch=${GPU_CHECK_BATCH:-128}
models=${GPU_CHECK_MODELS:-vgg16 resnet18}
results=$OUT/results.jsonl
: >"$results"
say() { echo "[gpu-check] $*"; }
left() { echo $((budget - ($(date +%s) - started))); }
record() { echo "$1" >>"$results"; }
failed() { record "{\"kind\":\"failed\",\"what\":\"$1\",\"reason\":\"$2\"}"; say "NOT MEASURED: $1: $2"; }

# Runs a command under min(limit, what is left of the budget before the summary's reserve); 124 when
# cut off or skipped for time.
bounded() {
  local limit=$1; shift
  local remaining; remaining=$(($(left) - summary_reserve))
  [ "$remaining" -lt "$limit" ] && limit=$remaining
  if [ "$limit" -lt 5 ]; then say "out of time, skipped: $*"; return 124; fi
  timeout -k 5 "$limit" "$@"
}

[ -f "$pack/gpu-check.mjs" ] || { say ".gpu/ is missing or incomplete: run scripts/gpu-pack.sh on a machine with Node.js first"; exit 2; }
say "commit packed: $(cat "$pack/commit" 2>/dev/null || echo unknown); host $(uname -srm); budget ${budget}s"

# 1. Unpack.
mkdir -p "$pack/bin"
[ -x "$pack/bin/node" ] || xz -dc "$pack/node.xz" >"$pack/bin/node" && chmod +x "$pack/bin/node"
[ -f "$pack/dist/linux-x64/dawn.node" ] || xz -dc "$pack/dist/linux-x64/dawn.node.xz" >"$pack/dist/linux-x64/dawn.node"
[ -f "$pack/mwt_native.node" ] || xz -dc "$pack/mwt_native.node.xz" >"$pack/mwt_native.node"
node=$pack/bin/node
if ! version=$("$node" --version 2>&1); then
  say "the packed node does not run here: $version"; ldd "$node" 2>&1 | sed 's/^/  /'
  failed node "$version"; exit 3
fi
say "node $version (packed)"
export MWT_NATIVE_ADDON=$pack/mwt_native.node MWT_QUIET=1

# The NVIDIA driver's own libraries (its Vulkan ICD loads them) where the image keeps them.
for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
# The Vulkan loader, and libglvnd that NVIDIA's ICD (libGLX_nvidia.so.0) needs to load, from the
# packed .debs where the system has none: unpacked with dpkg -x into .gpu/vulkan, never into /.
missing=""
for lib in libvulkan.so.1 libGLdispatch.so.0; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing="$missing $lib"
done
if [ -z "$missing" ]; then
  say "Vulkan loader and libglvnd: the system's"
elif ls "$pack"/*.deb >/dev/null 2>&1; then
  rm -rf "$pack/vulkan"
  for deb in "$pack"/*.deb; do
    if command -v dpkg >/dev/null; then dpkg -x "$deb" "$pack/vulkan"
    else mkdir -p "$pack/vulkan" && (cd "$pack/vulkan" && ar x "$deb" && tar -xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary); fi
  done
  lib=$(dirname "$(find "$pack/vulkan" -name 'libvulkan.so.1*' | head -1)")
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "missing on the system:$missing; using the packed $(cd "$pack" && ls *.deb | tr '\n' ' ')unpacked into $lib"
else
  say "missing on the system:$missing, and nothing packed"
fi

# 2. The GPU, its Vulkan drivers, and what Dawn sees.
if command -v nvidia-smi >/dev/null; then
  bounded 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  bounded 30 nvidia-smi | head -20
else
  say "no nvidia-smi: not an NVIDIA machine"
fi
say "Vulkan ICDs present:"
for dir in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$dir"/*.json; do [ -f "$f" ] && echo "  $f"; done
done
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && say "$f: $(tr -d '\n ' <"$f")"
done
glx=$(ldconfig -p 2>/dev/null | grep -m1 'libGLX_nvidia\.so\.0' | sed 's/.*=> //')
[ -z "$glx" ] && glx=$(ls /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 2>/dev/null | head -1)
if [ -n "$glx" ]; then say "ldd $glx:"; ldd "$glx" 2>&1 | grep -E 'not found|GLdispatch|nvidia' | sed 's/^/  /'; else say "no libGLX_nvidia.so.0 found"; fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd
  say "VK_DRIVER_FILES=$nvidia_icd"
fi
adapter=$(bounded 60 "$node" "$pack/gpu-check.mjs" adapter 2> >(grep -v 'artificially reduced' >&2) | tail -1)
if [ -z "$adapter" ]; then
  failed adapter "Dawn found no adapter (see the log above)"
else
  say "Dawn's adapter: $adapter"
  record "{\"kind\":\"adapter\",\"info\":$adapter}"
  case "$adapter" in *'"software":true'*) say "WARNING: a software adapter (CPU): webgpu figures below are not a GPU's";; esac
fi

# 3. The webgpu tests on this adapter (gradient checks, one training step against native).
say "test/core/webgpu.test.ts on this adapter:"
bounded 150 "$node" --test-reporter=spec "$pack/webgpu.test.mjs" 2> >(grep -v 'artificially reduced' >&2)
status=$?
record "{\"kind\":\"tests\",\"exit\":$status}"
[ "$status" = 0 ] && say "webgpu tests passed" || say "webgpu tests FAILED or timed out (exit $status)"

# 4. Training steps: ours on webgpu and native, PyTorch on CUDA (or its CPU, said so).
python=${GPU_CHECK_PYTHON:-python3}
torch_device=$(bounded 60 "$python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")' 2>/dev/null | tail -1)
case "$torch_device" in
  cuda) say "PyTorch: CUDA";;
  cpu) say "PyTorch has no CUDA here: the peer runs on the CPU (ratios below are NOT against a GPU)";;
  *) say "no PyTorch for $python: no peer"; torch_device="";;
esac

step() { # backend model variant limit steps min-ms warmup [label]
  local line label=${8:-$1}
  line=$(bounded "$4" "$node" "$pack/gpu-check.mjs" step --backend "$1" --model "$2" --variant "$3" --batch "$batch" \
    --min-steps "$5" --min-ms "$6" --warmup "$7" 2> >(grep -v 'artificially reduced' >&2) | tail -1)
  case "$line" in
    '{'*) line=${line#\{}; record "{\"kind\":\"step\",\"label\":\"$label\",${line}"; say "$label $2 $3: $(echo "$line" | grep -o '"msPerStep":[0-9.]*')";;
    *) failed "$label $2 $3 step" "timed out or failed (limit $4 s)";;
  esac
}

for model in $models; do
  step webgpu "$model" modular 75 10 2000 2
  # What the host does per step: the counts that set the dispatch overhead (bench/webgpu-profile.ts).
  work=$(bounded 45 "$node" "$pack/gpu-check.mjs" host-work --backend webgpu --model "$model" --variant modular --batch "$batch" --min-steps 5 \
    2> >(grep -v 'artificially reduced' >&2) | tee >(grep -v '^{' | sed "s/^/[gpu-check] webgpu $model modular /" >&2) | tail -1)
  case "$work" in
    '{'*) record "{\"kind\":\"host-work\",${work#\{}";;
    *) failed "webgpu $model host work" "timed out or failed";;
  esac
  step webgpu "$model" standard 60 10 2000 2
  # The same modular step without the fused WGSL kernels (BatchNorm, SGD): what they save on this GPU.
  MWT_WEBGPU_FUSED=0 step webgpu "$model" modular 60 5 1000 2 unfused
  if [ -n "$torch_device" ]; then
    archs=$OUT/arch-$model
    bounded 30 "$node" "$pack/gpu-check.mjs" arch --model "$model" --out "$archs" >/dev/null
    peer=$(bounded 90 "$python" bench/peer_torch.py --threads "$(nproc)" --arch-modular "$archs/modular.json" --arch-standard "$archs/standard.json" \
      --device "$torch_device" --batch "$batch" --min-steps 10 --min-seconds 2 | tail -1)
    case "$peer" in
      '{'*) record "{\"kind\":\"peer\",\"model\":\"$model\",${peer#\{}"; say "torch $model: $peer";;
      *) failed "torch $model" "timed out or failed";;
    esac
    rm -rf "$archs"
  fi
  step native "$model" modular 60 2 0 1
  step native "$model" standard 45 2 0 1
done

# Where the webgpu step's time goes (device time per tfjs kernel), for the next round of kernels.
first_model=${models%% *}
say "profile of one webgpu modular $first_model step (device time by tfjs kernel; each kernel submitted alone):"
profile=$(bounded 90 "$node" "$pack/gpu-check.mjs" profile --backend webgpu --model "$first_model" --variant modular --batch "$batch" \
  2> >(grep -v 'artificially reduced' >&2) | tee /dev/stderr | tail -1)
case "$profile" in
  '{'*) record "{\"kind\":\"profile\",${profile#\{}";;
  *) failed "webgpu $first_model profile" "timed out or failed";;
esac

say "summary (ms per training step; webgpu/torch: target <= 3 for the modular step; native/webgpu: target >= 20):"
if ! timeout -k 5 $((summary_reserve - 5)) "$node" "$pack/gpu-check.mjs" summary --results "$results" --out "$OUT/gpu-check.json"; then
  say "summary failed; raw results are in $results"
  cp "$results" "$OUT/gpu-check.json"
fi
say "done in $(($(date +%s) - started)) s; log $OUT/gpu-check.log, report $OUT/gpu-check.json"
