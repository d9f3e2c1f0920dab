#!/usr/bin/env bash
# Trains an MLP on MNIST, packs it, and checks that the packed model (the runtime) predicts the same
# class as the training-side model on the whole MNIST test set. Binary policies train with
# quantization-aware training (hard tanh, BatchNorm); `int8` and `ternary-fgq` train a float ReLU MLP
# and quantize it post-training (`lowbit quantize --policy POLICY --calib 512`).
#
#   scripts/check-packed-mnist.sh [POLICY] [EPOCHS]      # defaults: hybrid-fp-first-last 3
#
# Binary policies must agree on every image; int8 and ternary-fgq on at least 99% (training fake-quantizes in float,
# the runtime requantizes in integers, so a few rounding ties can land differently).
# Uses .build/release/lowbit (run `swift build -c release` first; LOWBIT=path overrides) and python3
# with numpy to export the test images and compare predictions. Prints one line per model and exits
# non-zero when any prediction differs. docs/RESULTS.md records a run.
set -euo pipefail
policy=${1:-hybrid-fp-first-last}
epochs=${2:-3}
lowbit=${LOWBIT:-.build/release/lowbit}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work/x.npy" "$work/y.npy" <<'PY'
import gzip, sys, numpy as np
with gzip.open("data/mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
with gzip.open("data/mnist/t10k-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)
np.save(sys.argv[1], (images / np.float32(255)).astype(np.float32))
np.save(sys.argv[2], labels.astype(np.int64))
PY

if [ "$policy" = int8 ] || [ "$policy" = ternary-fgq ]; then
    "$lowbit" train --model mlp --hidden 256,256 --dataset mnist --epochs "$epochs" --lr 0.01 --optimizer adam \
        --no-progress -o "$work/float.lowbit" >/dev/null 2>&1
    "$lowbit" quantize "$work/float.lowbit" --policy "$policy" --calib 512 --no-progress -o "$work/model.lowbit" >/dev/null
else
    "$lowbit" train --model mlp --hidden 256,256 --activation hardTanh --batch-norm --policy "$policy" \
        --dataset mnist --epochs "$epochs" --lr 0.01 --optimizer adam --no-progress -o "$work/model.lowbit" >/dev/null 2>&1
fi
"$lowbit" pack "$work/model.lowbit" -o "$work/model.packed.lowbit"
"$lowbit" run "$work/model.lowbit" --input "$work/x.npy" -o "$work/reference.npy" >/dev/null
"$lowbit" run "$work/model.packed.lowbit" --input "$work/x.npy" -o "$work/packed.npy" --json

python3 - "$work" "$policy" <<'PY'
import sys, numpy as np
work, policy = sys.argv[1], sys.argv[2]
labels = np.load(f"{work}/y.npy")
reference = np.load(f"{work}/reference.npy").argmax(1)
packed = np.load(f"{work}/packed.npy").argmax(1)
same = int((reference == packed).sum())
print(f"{policy}: {same}/{len(labels)} predictions agree; accuracy training-side "
      f"{(reference == labels).mean():.4f}, packed {(packed == labels).mean():.4f}")
required = 0.99 * len(labels) if policy in ("int8", "ternary-fgq") else len(labels)
sys.exit(0 if same >= required else 1)
PY
