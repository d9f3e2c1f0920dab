#!/usr/bin/env bash
# LowBit against peer runtimes on this CPU (Benchmarks/PEERS.md says what each one runs):
#   - Larq Compute Engine 0.16 binary 3x3 convolutions   (Benchmarks/lce_conv.py)
#   - ONNX Runtime MatMulInteger and MatMul at 1024^3    (Benchmarks/ort_matmul.py)
#   - float ResNet-20 batch 1 in PyTorch and ORT, from LowBit's trained weights (Benchmarks/e2e_resnet20.py)
#   - LowBit's own rows for the same shapes, when a lowbit binary exists (Benchmarks/lowbit_rows.py)
# Writes Benchmarks/results/peers.json (every record) and prints Markdown tables.
#
#   Benchmarks/peers.sh [--quick]
#
# Environment: LOWBIT (binary, default .build/release/lowbit; it is not built here),
# LOWBIT_RESNET20 (default experiments/resnet20-fmnist.lowbit, from experiments/resnet20-fmnist.sh),
# FASHION_MNIST (default ../shared/datasets/fashion-mnist), PYTHON (default python3, must be 3.11).
# Full run about 3-4 minutes on 2 cores, --quick under a minute (once .venv-peers exists).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
case "${1:-}" in
  --quick) quick=(--quick) ;;
  "") ;;
  *) echo "usage: Benchmarks/peers.sh [--quick]" >&2; exit 2 ;;
esac

venv=.venv-peers
# One venv holds every peer. TensorFlow 2.15 pins protobuf < 5 and ml-dtypes 0.3, so onnx stays
# below 1.18 (onnx 1.18+ imports ml_dtypes.float4_e2m1fn, missing from ml-dtypes 0.3; pip's resolver
# picks onnx 1.19 and it fails at import). ONNX Runtime itself is the current release.
requirements=("tensorflow-cpu==2.15.1" larq "larq-compute-engine==0.16.0" "numpy<2" onnxruntime "onnx<1.18")
check='import tensorflow as tf, larq, larq_compute_engine, onnxruntime, onnx, torch
assert tf.__version__ == "2.15.1", tf.__version__'
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c "$check" 2>/dev/null; then
  echo "peers.sh: installing ${requirements[*]} torch into $venv" >&2
  "${PYTHON:-python3}" -c 'import sys; assert sys.version_info[:2] == (3, 11), "need Python 3.11 (LCE 0.16 and TF 2.15 wheels)"'
  "${PYTHON:-python3}" -m venv $venv
  # torch: the CPU-only wheel where a local wheel directory offers it (pip's find-links), else PyPI's
  $venv/bin/pip install -q "${requirements[@]}" "torch==2.13.0+cpu" >&2 \
    || $venv/bin/pip install -q "${requirements[@]}" torch >&2
  $venv/bin/python -c "$check"
fi
py=$venv/bin/python

load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "peers.sh: WARNING: load average $load before starting; timings will be inflated and noisy" >&2
fi

mkdir -p Benchmarks/results
records=$(mktemp)
trap 'rm -f "$records"' EXIT
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore

echo "== LCE binary convolution" >&2
$py Benchmarks/lce_conv.py "${quick[@]}" --out "$records" >/dev/null
echo "== ONNX Runtime MatMulInteger / MatMul" >&2
$py Benchmarks/ort_matmul.py "${quick[@]}" --out "$records" >/dev/null
model=${LOWBIT_RESNET20:-experiments/resnet20-fmnist.lowbit}
if [[ -f $model ]]; then
  echo "== ResNet-20 end to end (PyTorch, ORT)" >&2
  $py Benchmarks/e2e_resnet20.py "${quick[@]}" --model "$model" --out "$records" >/dev/null
else
  echo "peers.sh: $model not found (experiments/resnet20-fmnist.sh trains it; or set LOWBIT_RESNET20): skipping ResNet-20" >&2
fi
lowbit=${LOWBIT:-.build/release/lowbit}
if [[ -x $lowbit ]]; then
  echo "== LowBit ($lowbit)" >&2
  LOWBIT=$lowbit LOWBIT_RESNET20=$model $py Benchmarks/lowbit_rows.py "${quick[@]}" --out "$records" >/dev/null
else
  echo "peers.sh: no lowbit binary at $lowbit (swift build -c release, or set LOWBIT): LowBit rows skipped" >&2
fi

$py Benchmarks/peers_table.py "$records" Benchmarks/results/peers.json
