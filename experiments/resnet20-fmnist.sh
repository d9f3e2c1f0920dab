#!/usr/bin/env bash
# ResNet-20 on Fashion-MNIST, float, 15 epochs (docs/RESULTS.md). ~1 h on the 2-core dev machine.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${FASHION_MNIST:-../shared/datasets/fashion-mnist}
swift build -c release --product lowbit
.build/release/lowbit train --model resnet20 --dataset fashion-mnist:$DATA --epochs 15 --batch-size 64 \
  --lr 0.05 --weight-decay 5e-4 --crop 2 --flip --seed 1 --no-progress -o experiments/resnet20-fmnist.lowbit
