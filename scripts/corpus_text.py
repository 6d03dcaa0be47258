"""The scene corpus's captions and the product's text embeddings, for the caption scripts
(caption_neighbours.py, prompt_familiarity.py): `t2v-scenes captions --json` and
`t2v-render embed --json` from a build folder."""
import json
import subprocess
import sys

import numpy as np


def captions(bin_dir: str, script: str) -> list[dict]:
    """Per family: {"id", "training": [...], "heldout": [...]}; exits with a message when the
    binary cannot run."""
    try:
        return json.loads(subprocess.run([f"{bin_dir}/t2v-scenes", "captions", "--json"],
                                         capture_output=True, text=True, check=True).stdout)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"{script}: cannot run {bin_dir}/t2v-scenes captions --json ({e}); build first (bash scripts/setup.sh)")


def embed(bin_dir: str, texts: list[str], script: str) -> np.ndarray:
    """[len(texts), 384] float64 pooled embeddings of the Swift MiniLM, in order."""
    try:
        out = subprocess.run([f"{bin_dir}/t2v-render", "embed", "--json"] + texts,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"{script}: {bin_dir}/t2v-render embed failed ({e}); is the text encoder installed (bash scripts/setup.sh)?")
    return np.array([e["embedding"] for e in json.loads(out)["embeddings"]], dtype=np.float64)
