"""PyTorch twin of bench/train_fashion.ts: the same single-view heads on Fashion-MNIST.

Usage: /usr/bin/python3 bench/train_fashion.py [--center image|none] [--epochs 20] [--seed 0] [--threads 2] [--hidden 512] [--heads twin|self]
Needs the neighbour cache written by bench/train_fashion.ts (bench/out/fashion-train-pixels-<center>-top50.i32).
Features as the pixels encoder: pixels/255, minus the image's mean when center=image, L2-normalised.
Loss, --heads twin (default; TAC's train.py with the one view fed to both of its heads, each head
its own neighbour draw): Distill(p1(a), p2(n2)) + Distill(p2(a), p1(n1)) + Consist(p1(a), p2(a))
- 5 (H(p1(a)) + H(p2(a))), the first head answers; --heads self: one head,
Distill(p(anchor), p(neighbour)) + Consist(p(anchor), p(neighbour)) - 5 H(mean p(anchor)),
Adam(betas=(0.9, 0.99)) lr 1e-3, batch 512 (drop last), hidden 512, K=10, T=0.5.
"""
import argparse, gzip, os, time
import numpy as np
import torch

from tac_torch import TacLosses, cluster_head, single_view_loss
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

ap = argparse.ArgumentParser()
ap.add_argument("--center", default="image")
ap.add_argument("--epochs", type=int, default=20)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--hidden", type=int, default=512)
ap.add_argument("--heads", default="twin", choices=["twin", "self"])
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
np.random.seed(a.seed)
D = "/usr/share/datasets/fashion-mnist/"


def load(split):
    with gzip.open(D + split + "-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
    with gzip.open(D + split + "-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
    if a.center == "image":
        x = x - x.mean(axis=1, keepdims=True)
    return torch.from_numpy(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)), y


xtr, ytr = load("train")
xte, yte = load("t10k")
here = os.path.dirname(os.path.abspath(__file__))
nbr = torch.from_numpy(np.fromfile(os.path.join(here, "out", "fashion-train-pixels-%s-top50.i32" % a.center), dtype=np.int32).reshape(-1, 50).astype(np.int64))
n, K, T, B = xtr.shape[0], 10, 0.5, 512
losses = TacLosses(K, T)


h = cluster_head(784, a.hidden, K)
h2 = cluster_head(784, a.hidden, K) if a.heads == "twin" else None
opt = torch.optim.Adam(list(h.parameters()) + (list(h2.parameters()) if h2 else []), betas=(0.9, 0.99))


def scores(y, p):
    table = np.zeros((10, 10), dtype=np.int64)
    np.add.at(table, (y, p), 1)
    r, c = linear_sum_assignment(table, maximize=True)
    return table[r, c].sum() / len(y), normalized_mutual_info_score(y, p), adjusted_rand_score(y, p)


t0 = time.perf_counter()
for epoch in range(a.epochs):
    h.train()
    if h2:
        h2.train()
    perm = torch.randperm(n)
    tot = 0
    for s in range(n // B):
        idx = perm[s * B:(s + 1) * B]
        loss = single_view_loss(losses, h, h2, xtr, nbr, idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
    h.eval()
    with torch.no_grad():
        pred = h(xte).argmax(dim=1).numpy()
    acc, nmi, ari = scores(yte, pred)
    print("epoch %d loss %.4f test ACC %.3f NMI %.3f ARI %.3f (%.0f s)" % (epoch + 1, tot / (n // B), acc, nmi, ari, time.perf_counter() - t0), flush=True)
