#!/usr/bin/env bash
# tfjs-node-gpu throughput of ConvNeXt-T at 224x224: inference and full training steps (forward, backward,
# AdamW) at batch 64 and 128, beside the paper's 774.7 images/s (Table 1, ConvNeXt-T inference on a V100).
#
#   bash bench/gpu-check.sh            # from the repository root, after `npm ci`
#   GPU_CHECK_BATCHES="64" bash bench/gpu-check.sh
#
# Needs (what @tensorflow/tfjs-node-gpu 4.22.0 is built for):
#   * an NVIDIA GPU with its driver (nvidia-smi) — the driver must support CUDA 11.2;
#   * CUDA 11.2 runtime libraries and cuDNN 8.1 on the library path (LD_LIBRARY_PATH), the versions that
#     libtensorflow 2.9.1 GPU links against;
#   * network access once: the package's install script downloads libtensorflow-gpu 2.9.1 (~400 MB) and its
#     prebuilt Node addon from Google's storage (.npmrc disables install scripts, so it runs explicitly here).
# Hopper (H100, sm_90) is newer than TensorFlow 2.9: kernels then run from PTX JIT-compiled at start-up
# (minutes the first time; CUDA_CACHE_MAXSIZE keeps the result), and cuDNN 8.1 predates Hopper, so expect
# the check to be slower than the hardware allows, or to fail in cuDNN; an Ampere or Volta GPU is the safe
# choice. The fused CPU kernels (src/native) are CPU-only and stay off on this backend.
# The lent H100 machine of this project (checked 2026-11-28) has no Node.js, CUDA 13 / cuDNN 9 only and no
# network, so this script cannot run there: it needs a GPU machine prepared as above.
set -euo pipefail
cd "$(dirname "$0")/.."

BATCHES="${GPU_CHECK_BATCHES:-64 128}"

die() { echo "gpu-check: $*" >&2; exit 2; }

command -v node >/dev/null || die "Node.js (>= 20) not found"
command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver on this machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  || die "nvidia-smi cannot talk to a GPU"
[ -e /dev/nvidia0 ] || die "/dev/nvidia0 missing: src/backend.ts only picks tfjs-node-gpu when it exists"

if ! node -e "require('@tensorflow/tfjs-node-gpu')" 2>/dev/null; then
  echo "gpu-check: installing @tensorflow/tfjs-node-gpu@4.22.0 (downloads libtensorflow-gpu 2.9.1)"
  npm install --no-save --ignore-scripts=false @tensorflow/tfjs-node-gpu@4.22.0 \
    || die "installing tfjs-node-gpu failed (it needs network access to storage.googleapis.com)"
fi
CONVNEXT_BACKEND=node-gpu node -e "require('@tensorflow/tfjs-node-gpu')" \
  || die "tfjs-node-gpu does not load: check CUDA 11.2 and cuDNN 8.1 are on LD_LIBRARY_PATH"

cases=()
for b in $BATCHES; do
  cases+=("convnext_tiny:224:${b}:eval" "convnext_tiny:224:${b}:train")
done
list=$(IFS=,; echo "${cases[*]}")

echo "gpu-check: cases ${list}"
CONVNEXT_BACKEND=node-gpu TF_CPP_MIN_LOG_LEVEL=1 npx tsx bench/bench.ts --no-torch --no-ort --cases "$list" \
  --warmup 3 --min-iters 10 --min-seconds 10
echo "gpu-check: paper (Liu et al. 2022, Table 1): ConvNeXt-T 774.7 images/s inference on one V100 at 224x224"
