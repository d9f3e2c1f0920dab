#!/usr/bin/env bash
# End to end at batch 1 for the MNIST MLP 784-256-256-10 (the model of the README's demo and of
# scripts/check-packed-mnist.sh): LowBit's packed float, int8, FGQ (ternary, group 4),
# hybrid-fp-first-last and binary-all models against ONNX Runtime running the float model, interleaved
# (Benchmarks/e2e_interleaved.py), 1 and 2 threads. Trains the models here (3 epochs each, seconds), then
# exports the float one to ONNX with Benchmarks/e2e_resnet20.py (which also times PyTorch and checks
# the ONNX model's test accuracy). docs/BENCHMARKS.md, "The MNIST MLP at batch 1", keeps a run.
#   Benchmarks/e2e-mlp.sh [ROUNDS] [REPEAT]      (defaults 5 and 2000; needs .build/release/lowbit or
#   LOWBIT=path, and .venv-peers from Benchmarks/peers.sh, or PYTHON=path with torch, onnx, onnxruntime)
set -euo pipefail
cd "$(dirname "$0")/.."
L=${LOWBIT:-.build/release/lowbit}
PY=${PYTHON:-.venv-peers/bin/python}
DATA=${MNIST:-data/mnist}
ROUNDS=${1:-5}
REPEAT=${2:-2000}
work=${WORK:-/tmp/lowbit-e2e-mlp}
mkdir -p "$work"
train() { "$L" train --model mlp --hidden 256,256 --dataset "mnist:$DATA" --epochs 3 --lr 0.01 --optimizer adam --no-progress "$@" >&2; }
[ -f "$work/float.lowbit" ] || train -o "$work/float.lowbit"
for policy in int8 ternary-fgq; do
  [ -f "$work/$policy.lowbit" ] || "$L" quantize "$work/float.lowbit" --policy "$policy" --dataset "mnist:$DATA" --calib 512 \
      --no-progress -o "$work/$policy.lowbit" >&2
done
for policy in hybrid-fp-first-last binary-all; do
  [ -f "$work/$policy.lowbit" ] || train --activation hardTanh --batch-norm --policy "$policy" -o "$work/$policy.lowbit"
done
for m in float int8 ternary-fgq hybrid-fp-first-last binary-all; do "$L" pack "$work/$m.lowbit" -o "$work/mlp-$m.packed.lowbit" >&2; done
"$PY" - "$DATA" "$work/x1.npy" <<'PYCODE'
import gzip, os, sys, numpy as np
path = os.path.join(sys.argv[1], "t10k-images-idx3-ubyte")
data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
np.save(sys.argv[2], (np.frombuffer(data, np.uint8, offset=16)[:784].reshape(1, 28, 28, 1) / np.float32(255)).astype(np.float32))
PYCODE
"$PY" Benchmarks/e2e_resnet20.py --model "$work/float.lowbit" --data "$DATA" --onnx "$work/mlp-float.onnx" \
    --name "mnist mlp 784-256-256-10 float" --quick --out "$work/peers.jsonl" >&2
for t in 1 2; do
  "$PY" Benchmarks/e2e_interleaved.py --onnx "$work/mlp-float.onnx" --lowbit "$L" --threads "$t" --rounds "$ROUNDS" \
      --repeat "$REPEAT" --input "$work/x1.npy" "$work"/mlp-{float,int8,ternary-fgq,hybrid-fp-first-last,binary-all}.packed.lowbit
done
