#!/usr/bin/env bash
# Training throughput: LowBit vs PyTorch CPU, same machine, same run, same shapes, both cores.
# Installs PyTorch (CPU wheel from PyPI) into .venv-bench on first use. Prints a Markdown table.
#   Benchmarks/training.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
scripts/install-deps.sh
swift build -c release --product lowbit >&2
if [[ ! -x .venv-bench/bin/python ]] || ! .venv-bench/bin/python -c "import torch" 2>/dev/null; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q "torch==2.13.0+cpu" numpy >&2 || .venv-bench/bin/pip install -q torch numpy >&2
fi
lowbit() { .build/release/lowbit "$@"; }
rate() { python3 -c 'import json,sys; print("%.0f" % json.loads(sys.stdin.read().strip().splitlines()[-1])["samples_per_second"])'; }
echo "| model | batch | threads | LowBit samples/s | PyTorch samples/s | ratio |"
echo "|---|---|---|---|---|---|"
for spec in "mlp 128 300" "resnet20 64 10"; do
  set -- $spec
  ours=$(lowbit bench train --model "$1" --batch-size "$2" --steps "$3" --threads "$threads" \
         $([[ $1 == mlp ]] && echo --hidden 256,256 --input-shape 784) --json | rate)
  theirs=$(.venv-bench/bin/python Benchmarks/torch_train.py --model "$1" --batch-size "$2" --steps "$3" --threads "$threads" | rate)
  ratio=$(python3 -c "print('%.2f' % ($ours / $theirs))")
  echo "| $1 | $2 | $threads | $ours | $theirs | ${ratio}x |"
done
echo
echo "torch $(.venv-bench/bin/python -c 'import torch; print(torch.__version__)'), $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d)"
