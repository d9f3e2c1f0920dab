#!/usr/bin/env bash
# End-to-end batch-1 latency, model bytes and peak resident memory of the Fashion-MNIST ResNet-20s
# in LowBit's runtime: float, hybrid-fp-shortcuts (both variants), the PCA policy, int8, 7-bit and
# 4-bit weights with 8-bit activations (experiments/w7a8-policy.json, w4a8-policy.json), int4 and FGQ
# N=4 (docs/BENCHMARKS.md, "End to end"). Packs the trained models of experiments/resnet20-fmnist.sh
# and experiments/resnet20-hybrid.sh (the integer and FGQ ones are post-training quantized here), then runs
# `lowbit bench MODEL --batch-sizes 1 --threads T --repeat R --input x1.npy --json` and `lowbit run --json` on one
# test image (the first Fashion-MNIST test image, x1.npy, for both). Run Benchmarks/peers.sh in the same session for PyTorch and ONNX Runtime on the float model.
#   Benchmarks/e2e-resnet20.sh [REPEAT]      (default 500; needs .build/release/lowbit or LOWBIT=path)
set -euo pipefail
cd "$(dirname "$0")/.."
L=${LOWBIT:-.build/release/lowbit}
DATA=${FASHION_MNIST:-../shared/datasets/fashion-mnist}
REPEAT=${1:-500}
work=${WORK:-/tmp/lowbit-e2e}
mkdir -p "$work"
[ -f "$work/r20-int8.lowbit" ] || "$L" quantize experiments/resnet20-fmnist.lowbit --policy int8 --dataset "fashion-mnist:$DATA" \
    --calib 1024 --no-progress -o "$work/r20-int8.lowbit" >&2
[ -f "$work/r20-fgq4.lowbit" ] || "$L" quantize experiments/resnet20-fmnist.lowbit --policy ternary-fgq --group 4 \
    --dataset "fashion-mnist:$DATA" --calib 1024 --no-progress -o "$work/r20-fgq4.lowbit" >&2
for policy in int4 experiments/w7a8-policy.json experiments/w4a8-policy.json; do
  name=$(basename "$policy" -policy.json)
  [ -f "$work/r20-$name.lowbit" ] || "$L" quantize experiments/resnet20-fmnist.lowbit --policy "$policy" \
      --dataset "fashion-mnist:$DATA" --calib 1024 --no-progress -o "$work/r20-$name.lowbit" >&2
done
python3 - "$DATA" "$work/x1.npy" <<'PY'
import gzip, os, sys, numpy as np
path = os.path.join(sys.argv[1], "t10k-images-idx3-ubyte")
data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
image = np.frombuffer(data, np.uint8, offset=16)[:784].reshape(1, 28, 28, 1)
np.save(sys.argv[2], (image / np.float32(255)).astype(np.float32))
PY
echo "| model | packed bytes | batch 1, 1 thread (us) | batch 1, 2 threads (us) | peak resident (MB) |"
echo "|---|---|---|---|---|"
for m in experiments/resnet20-fmnist experiments/r20-hybrid-block experiments/r20-hybrid-perconv experiments/r20-pca \
         "$work/r20-int8" "$work/r20-w7a8" "$work/r20-w4a8" "$work/r20-int4" "$work/r20-fgq4"; do
  [ -f "$m.lowbit" ] || continue
  packed="$work/$(basename "$m").packed.lowbit"
  "$L" pack "$m.lowbit" -o "$packed" > /dev/null
  t1=$("$L" bench "$packed" --batch-sizes 1 --threads 1 --repeat "$REPEAT" --input "$work/x1.npy" --json)
  t2=$("$L" bench "$packed" --batch-sizes 1 --threads 2 --repeat "$REPEAT" --input "$work/x1.npy" --json)
  run=$("$L" run "$packed" --input "$work/x1.npy" -o "$work/y.npy" --json)
  python3 - "$(basename "$m")" "$t1" "$t2" "$run" <<'PY'
import json, sys
name, t1, t2, run = sys.argv[1], *map(json.loads, sys.argv[2:])
print(f"| {name} | {t1['model_bytes']:,} | {t1['latency_us']['1']:.0f} | {t2['latency_us']['1']:.0f} | "
      f"{run['peak_resident_bytes'] / 1e6:.1f} |")
PY
done
