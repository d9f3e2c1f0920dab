#!/usr/bin/env bash
# LeNet-style CNN on Fashion-MNIST, float, 10 epochs, with crop and flip augmentation (docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${FASHION_MNIST:-../shared/datasets/fashion-mnist}
swift build -c release --product lowbit
.build/release/lowbit train --model lenet --dataset fashion-mnist:$DATA --epochs 10 --batch-size 128 \
  --lr 0.05 --weight-decay 5e-4 --crop 2 --flip --seed 1 --no-progress -o experiments/lenet-fmnist.lowbit
