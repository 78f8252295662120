#!/usr/bin/python3
"""PyTorch CPU side of the encoder benchmark (bench/encode.ts runs it; it can also run alone).

    /usr/bin/python3 bench/encode_torch.py --model resnet50|clip --images DIR [--n 256] [--batch 32]
        [--threads 2] [--seed 0] [--features-out FILE.npy]

The model is the one bench/export_models.py exports, rebuilt from the same seed (same weights as
the ONNX file satc runs), in eval mode, under torch.no_grad(), torch.set_num_threads(threads).
Preprocessing is torchvision's, on PIL images, the same sizes as satc's:
  resnet50: Resize(224, bilinear) + CenterCrop(224) + ToTensor + Normalize(ImageNet)
            -> last feature map (B, 2048, 7, 7) (the tensor satc's graph edit exposes);
            end to end also averages the 49 cells and L2-normalises (satc's resnet50 global view).
  clip:     Resize(224, bicubic) + CenterCrop(224) + ToTensor + Normalize(CLIP)
            -> image_embeds (B, 512); end to end L2-normalises.

Two timings, each after one untimed warm-up batch:
  forward:    batches of already preprocessed tensors through the model only.
  end_to_end: per batch, open + decode (PIL) + preprocess + stack + forward (+ pool/normalise),
              in this one process (no DataLoader workers, which would compete for the same cores).
CPU seconds (time.process_time: every thread of the process) are reported beside the wall time.
Prints one JSON object on stdout. --features-out saves the end-to-end features (n, d) float32.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_models import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, build_models  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["resnet50", "clip"], required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--features-out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    files = sorted(f for f in os.listdir(a.images) if f.endswith(".jpg"))[: a.n]
    if len(files) < a.n:
        sys.exit(f"{a.images}: {len(files)} .jpg files, expected {a.n}")
    paths = [os.path.join(a.images, f) for f in files]

    t0 = time.perf_counter()
    resnet, clip = build_models(a.seed)
    if a.model == "resnet50":
        del clip
        net = resnet
        tf = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])

        def forward(x):
            return net.feature_map(x)

        def head(fmap):
            return torch.nn.functional.normalize(fmap.mean(dim=(2, 3)), dim=1)
    else:
        del resnet
        net = clip
        tf = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(), T.Normalize(CLIP_MEAN, CLIP_STD)])

        def forward(x):
            return net(x)

        def head(emb):
            return torch.nn.functional.normalize(emb, dim=1)
    load_s = time.perf_counter() - t0

    def load(ps):
        return torch.stack([tf(Image.open(p).convert("RGB")) for p in ps])

    batches = [paths[i : i + a.batch] for i in range(0, len(paths), a.batch)]
    with torch.no_grad():
        # forward only
        tensors = [load(b) for b in batches]
        forward(tensors[0])
        t0, c0 = time.perf_counter(), time.process_time()
        for x in tensors:
            forward(x)
        forward_s, forward_cpu = time.perf_counter() - t0, time.process_time() - c0
        del tensors

        # end to end
        head(forward(load(batches[0])))
        feats = []
        t0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            feats.append(head(forward(load(b))))
        e2e_s, e2e_cpu = time.perf_counter() - t0, time.process_time() - c0
    features = torch.cat(feats).numpy().astype(np.float32)
    if a.features_out:
        np.save(a.features_out, features)
    print(json.dumps({
        "framework": "pytorch",
        "model": a.model,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "n": len(paths),
        "batch": a.batch,
        "load_s": load_s,
        "forward": {"seconds": forward_s, "images_per_s": len(paths) / forward_s, "cpu_seconds": forward_cpu},
        "end_to_end": {"seconds": e2e_s, "images_per_s": len(paths) / e2e_s, "cpu_seconds": e2e_cpu},
        "features_shape": list(features.shape),
        "loadavg": list(os.getloadavg()),
    }))


if __name__ == "__main__":
    main()
