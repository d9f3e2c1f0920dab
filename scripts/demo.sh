#!/usr/bin/env bash
# The main job: builds LowBit in release mode and runs `lowbit demo` on the MNIST copy in data/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product lowbit
exec .build/release/lowbit demo "$@"
