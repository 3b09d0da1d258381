#!/usr/bin/env bash
# The GPU check (tools/bench/gpu_check.py) on a host with one CUDA GPU and PyTorch 2.x: no network, no Java,
# no Maven; under 8 minutes on an H100. See docs/deployment.md, "GPU check".
#
#   tools/bench/gpu_check.sh [gpu_check.py options]          # e.g. --window-batches 1,2 --budget-s 300
#
# XDYNA_SOURCES (default data/xdyna-sources, ignored by git): X-Dyna at the pinned commit, diffusers 0.24.0,
# einops 0.8.1, huggingface_hub 0.19.4, laid out as tools/golden/README.md makes them (about 13 MB without
# xdyna/assets). Results: $OUT/gpu-check.json (OUT defaults to /tmp); the log goes to stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sources="${XDYNA_SOURCES:-$root/data/xdyna-sources}"
out_dir="${OUT:-/tmp}"
python="${PYTHON:-python3}"
if [ ! -d "$sources/xdyna/animatediff" ] || [ ! -d "$sources/diffusers/src" ]; then
  echo "no X-Dyna sources in $sources: copy the folder tools/golden/README.md makes (e.g." >&2
  echo "  cp -r /tmp/golden-src data/xdyna-sources && rm -rf data/xdyna-sources/xdyna/assets) and carry it along" >&2
  exit 2
fi
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm \
  --format=csv,noheader || true
mkdir -p "$out_dir"
# the script stops itself (budget 420 s + 30 s grace); the timeout is the backstop
exec timeout 480 "$python" "$root/tools/bench/gpu_check.py" --sources "$sources" --out "$out_dir/gpu-check.json" "$@"
