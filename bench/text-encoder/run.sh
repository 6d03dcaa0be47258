#!/usr/bin/env bash
# Builds t2v-render (release) and runs the text encoder benchmark. See bench.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product t2v-render >/dev/null
python3 bench/text-encoder/bench.py "$@"
