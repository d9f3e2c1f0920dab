#!/usr/bin/env bash
# MLP 784-256-256-10 on the shipped MNIST, float, 10 epochs (docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lowbit
.build/release/lowbit train --model mlp --hidden 256,256 --dataset mnist --epochs 10 --batch-size 128 \
  --lr 0.05 --seed 1 --no-progress -o experiments/mlp-mnist.lowbit
