#!/usr/bin/env bash
# Installs the system libraries LowBit links against (OpenBLAS, zlib) when they are missing.
# Debian/Ubuntu via apt-get; on macOS, Accelerate and the system zlib are used and nothing is needed.
set -euo pipefail
if [[ "$(uname -s)" == "Darwin" ]]; then exit 0; fi
missing=()
[[ -e /usr/include/x86_64-linux-gnu/cblas.h || -e /usr/include/cblas.h || -e /usr/include/aarch64-linux-gnu/cblas.h ]] \
  && pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev pkg-config)
[[ -e /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
