#!/usr/bin/env bash
# Runs the whole test suite (Swift Testing) after installing the system libraries it links against.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
