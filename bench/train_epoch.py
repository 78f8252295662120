"""PyTorch side of bench/train_epoch.ts: one epoch of the single-view heads on Fashion-MNIST train.

Usage: /usr/bin/python3 bench/train_epoch.py [--threads 2] [--hidden 512] [--batch 512] [--heads twin|self]
Input: the 60,000 training images, pixels/255, L2-normalised rows (784-d); neighbours: a random
(60000, 50) table (seed 0) -- the timing does not depend on which items are neighbours.
Batches are gathered with tensor indexing (faster than TAC's per-item Dataset/DataLoader).
Loss as bench/train_fashion.py: --heads twin (default, satc's single view) trains two heads,
Distill(p1(a), p2(n2)) + Distill(p2(a), p1(n1)) + Consist(p1(a), p2(a)) - 5 (H(p1(a)) + H(p2(a)));
--heads self one head, Distill(p(anchor), p(neighbour)) + Consist(p(anchor), p(neighbour)) - 5 H(mean p(anchor)).
Prints one JSON line with the epoch's seconds.
"""
import argparse, gzip, json, time
import numpy as np
import torch

from tac_torch import TacLosses, cluster_head, single_view_loss

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--hidden", type=int, default=512)
ap.add_argument("--batch", type=int, default=512)
ap.add_argument("--heads", default="twin", choices=["twin", "self"])
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
x = torch.from_numpy(x / np.linalg.norm(x, axis=1, keepdims=True))
n, K, T = x.shape[0], 10, 0.5
nbr = torch.from_numpy(np.random.default_rng(0).integers(0, n, size=(n, 50)))
losses = TacLosses(K, T)
h = cluster_head(784, a.hidden, K)
h2 = cluster_head(784, a.hidden, K) if a.heads == "twin" else None
opt = torch.optim.Adam(list(h.parameters()) + (list(h2.parameters()) if h2 else []), betas=(0.9, 0.99))
t0 = time.perf_counter()
perm = torch.randperm(n)
steps = n // a.batch
for s in range(steps):
    idx = perm[s * a.batch:(s + 1) * a.batch]
    loss = single_view_loss(losses, h, h2, x, nbr, idx)
    opt.zero_grad()
    loss.backward()
    opt.step()
seconds = time.perf_counter() - t0
print(json.dumps({"side": "pytorch", "heads": a.heads, "hidden": a.hidden, "threads": a.threads, "steps": steps, "seconds": seconds, "torch": torch.__version__}))
