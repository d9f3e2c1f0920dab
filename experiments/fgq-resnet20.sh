#!/usr/bin/env bash
# Post-training quantization of the float ResNet-20 (experiments/resnet20-fmnist.sh) on Fashion-MNIST,
# no retraining: FGQ ternary at several group sizes and TWN, 8- and 4-bit activations, with the trained
# and with re-estimated BatchNorm statistics; int8; FGQ N=64 plus a 1-epoch fine-tune at 4-bit activations.
# FGQ group scales are refitted to the calibration inputs (the default of `lowbit quantize`); two rows
# repeat N=4 with --no-refit-scales to show what the refit adds.
# Prints a Markdown table (docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${FASHION_MNIST:-../shared/datasets/fashion-mnist}
MODEL=experiments/resnet20-fmnist.lowbit
OUT=${OUT:-/tmp/lowbit-fgq}
mkdir -p "$OUT"
[ -n "${LOWBIT:-}" ] || swift build -c release --product lowbit >&2
lowbit() { "${LOWBIT:-.build/release/lowbit}" "$@"; }
field() { python3 -c 'import json,sys; v=json.loads(sys.stdin.read().strip().splitlines()[-1]).get(sys.argv[1]); print("-" if v is None else "%.2f" % (100*v))' "$1"; }
echo "| weights | activations | calibration | float | trained BN stats | re-estimated BN stats | after fine-tune |"
echo "|---|---|---|---|---|---|---|"
run() {  # label, act bits, calibration, extra args...
  local label=$1 bits=$2 calibration=$3; shift 3
  local json
  json=$(lowbit quantize "$MODEL" --dataset "fashion-mnist:$DATA" --act-bits "$bits" --calibration "$calibration" \
         --calib 1024 --no-progress --json -o "$OUT/q.lowbit" "$@")
  echo "| $label | $bits-bit | $calibration | $(field float_accuracy <<<"$json") | $(field accuracy_trained_bn <<<"$json") | $(field accuracy_reestimated_bn <<<"$json") | $( [[ "$*" == *finetune* ]] && field accuracy <<<"$json" || echo -) |"
}
for bits in 8 4; do
  for n in 4 8 16 64; do
    run "FGQ ternary N=$n" "$bits" percentile --policy ternary-fgq --group "$n"
  done
  run "TWN (per tensor)" "$bits" percentile --policy ternary-twn
done
run "FGQ ternary N=4" 4 mse --policy ternary-fgq --group 4
run "FGQ ternary N=4, no scale refit" 8 percentile --policy ternary-fgq --group 4 --no-refit-scales
run "FGQ ternary N=4, no scale refit" 4 percentile --policy ternary-fgq --group 4 --no-refit-scales
run "int8 per channel" 8 percentile --policy int8
run "FGQ ternary N=64 + 1 epoch fine-tune" 4 percentile --policy ternary-fgq --group 64 --finetune-epochs 1
