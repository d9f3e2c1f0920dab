#!/usr/bin/env bash
# MLP 784-1024-1024-1024-10 with binary weights and activations in the hidden layers, first and
# last layer float (policy `binary`), quantization-aware training on MNIST (docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lowbit
.build/release/lowbit train --model mlp --hidden 1024,1024,1024 --batch-norm --activation hardtanh --policy binary \
  --optimizer adam --lr 0.003 --weight-decay 0 --dataset mnist --epochs 15 --batch-size 128 --seed 1 --no-progress \
  -o experiments/binary-mlp-mnist.lowbit
