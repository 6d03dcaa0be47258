#!/usr/bin/env bash
# Renders N prompts (10 corpus wordings, seeds 100 up) with the default model once unsharded and
# once as --shard 0/2 + --shard 1/2, and compares the two folders byte for byte.
#   bash scripts/check_batch_shards.sh [N]      # default 50; work files in work/batch-shards
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
W=work/batch-shards
BIN=$(swift build -c release --show-bin-path)/t2v-render
rm -rf "$W" && mkdir -p "$W"
python3 - "$N" "$W/prompts.jsonl" <<'PY'
import json, sys
words = ["a red ball bouncing", "fireworks in the night sky", "a sunset over the ocean", "snow falling in a forest",
         "a car driving at night", "a cyberpunk city at night", "clouds drifting across the sky", "a campfire at night",
         "the northern lights", "autumn leaves falling"]
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[1])):
        f.write(json.dumps({"prompt": words[i % 10], "seed": 100 + i}) + "\n")
PY
"$BIN" --prompts "$W/prompts.jsonl" --output-dir "$W/all" -q
"$BIN" --prompts "$W/prompts.jsonl" --output-dir "$W/split" --shard 0/2 -q
"$BIN" --prompts "$W/prompts.jsonl" --output-dir "$W/split" --shard 1/2 -q
diff -r "$W/all" "$W/split" && echo "identical: $(ls "$W/all" | wc -l) files"
