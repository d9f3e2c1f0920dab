#!/usr/bin/env bash
# MLP 784-1024-1024-1024-10 with FGQ ternary weights (groups of 4) and binary activations in the
# hidden layers, first and last layer float (experiments/tbn-fgq4-policy.json), quantization-aware
# training on MNIST: the architecture and schedule of binary-mlp-mnist.sh, so the two compare
# (docs/RESULTS.md). Packed, its hidden layers run TernarySignGEMM (docs/RUNTIME.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lowbit
.build/release/lowbit train --model mlp --hidden 1024,1024,1024 --batch-norm --activation hardtanh \
  --policy experiments/tbn-fgq4-policy.json --optimizer adam --lr 0.003 --weight-decay 0 --dataset mnist --epochs 15 \
  --batch-size 128 --seed 1 --no-progress -o experiments/tbn-mlp-mnist.lowbit
.build/release/lowbit pack experiments/tbn-mlp-mnist.lowbit -o experiments/tbn-mlp-mnist.packed.lowbit
