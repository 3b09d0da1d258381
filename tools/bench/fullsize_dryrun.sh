#!/usr/bin/env bash
# Full-size dry run on the CPU (a bench, not a test): X-Dyna's networks at their real SD-1.5 size with
# random weights, exported in float32 by tools/export, loaded by the Java animator, one job run and
# measured (load time, seconds per network call, peak memory vs MemoryEstimate). Figures: animator/README.md.
#
#   tools/bench/fullsize_dryrun.sh [--xdyna-repo DIR] [--bundle DIR] [--out DIR] [--width-divisor N] [SIZE ...]
#
# SIZE is FRAMESxWIDTHxHEIGHTxSTEPS (default 16x256x448x2 and the calibration size 8x192x320x2).
# The bundle (~10 GB) goes to /tmp by default: never commit it. Needs the exporter's Python environment
# (tools/export/requirements.txt, or: PYTHONPATH with diffusers 0.24.0 / einops / omegaconf) and X-Dyna's
# checkout at the pinned commit; about 12 GB of RAM for the export and 17 GB for the 16-frame job
# (float32 weights alone are 11.7 GB). --width-divisor 2 halves the UNet/ControlNet/ViT channels where
# that does not fit (what animator/README.md reports for the 24 GB machine shared with other work).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
xdyna_repo="${XDYNA_REPO:-/opt/X-Dyna}"
bundle="/tmp/xdyna-fullsize"
out="/tmp/xdyna-fullsize-bench"
python="${PYTHON:-/usr/bin/python3}"
sizes=()
divisor=1
while [ $# -gt 0 ]; do
  case "$1" in
    --xdyna-repo) xdyna_repo="$2"; shift 2 ;;
    --bundle) bundle="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --width-divisor) divisor="$2"; shift 2 ;;
    *) sizes+=("$1"); shift ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(16x256x448x2 8x192x320x2)
mkdir -p "$out"
timev() { if [ -x /usr/bin/time ]; then /usr/bin/time -v "$@"; else "$@"; fi; }

if [ ! -f "$bundle/manifest.json" ]; then
  echo "exporting the full-size random bundle to $bundle (log: $out/export.log)"
  timev "$python" "$root/tools/export/xdyna_fullsize_dryrun.py" --xdyna-repo "$xdyna_repo" --out "$bundle" \
    --width-divisor "$divisor" > "$out/export.log" 2>&1
  grep -E "FULL-SIZE EXPORT DONE|Maximum resident|Elapsed \(wall" "$out/export.log"
fi

cp_file="$out/bench.classpath"
(cd "$root" && mvn -o -B -q -pl bench -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" >&2)
classpath="$root/bench/target/classes:$root/animator/target/classes:$root/shared/target/classes:$(cat "$cp_file")"
for size in "${sizes[@]}"; do
  IFS=x read -r frames width height steps <<< "$size"
  log="$out/job-$size.log"
  echo "job $frames frames ${width}x${height}, $steps steps (log: $log)"
  timev java -Xmx2g -Dai.djl.offline=true -cp "$classpath" io.xdyna.bench.animator.AnimatorJobBench \
    "$bundle" "$frames" "$width" "$height" "$steps" cpu 1 > "$log" 2>&1
  grep -E "loaded in|MemoryEstimate predicts|calls,|^phases|^memory:|Maximum resident|Elapsed \(wall" "$log"
done
