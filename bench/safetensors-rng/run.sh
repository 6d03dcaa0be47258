#!/usr/bin/env bash
# Times SafeTensors (open, convert, write, stream-write) and Philox on a ~30 MB weights file
# made by Python's safetensors. Run after `swift build -c release`:
#   bench/safetensors-rng/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.build/release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/safetensors-rng/make_weights.py "$tmp/weights.safetensors"
swiftc -O -parse-as-library bench/safetensors-rng/Bench.swift "$B"/Generator.build/*.o \
    -I "$B/Modules" -I Sources/CBLAS -lopenblas -o "$tmp/bench"
"$tmp/bench" "$tmp"
