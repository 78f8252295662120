"""PyTorch side of bench/train_step.ts: one TAC training step (two heads, Adam) on CPU.

Usage: /usr/bin/python3 bench/train_step.py [--threads 2] [--dim 512] [--batch 512] [--clusters 10] [--hidden 512] [--steps 30]
Prints one JSON line {"msPerStep": ..., ...}. Same math as test/reference/train_step.py, float32.
"""
import argparse, json, time
import torch
import torch.nn.functional as F
from torch import nn

from tac_torch import TacLosses

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--dim", type=int, default=512)
ap.add_argument("--batch", type=int, default=512)
ap.add_argument("--clusters", type=int, default=10)
ap.add_argument("--hidden", type=int, default=512)
ap.add_argument("--steps", type=int, default=30)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
K, T = a.clusters, 0.5
losses = TacLosses(K, T)
entropy, consistency, distill = losses.entropy, losses.consistency, losses.distill


def head():
    return nn.Sequential(nn.Linear(a.dim, a.hidden), nn.BatchNorm1d(a.hidden), nn.ReLU(), nn.Linear(a.hidden, K), nn.Softmax(dim=1))


ha, hb = head(), head()
opt = torch.optim.Adam(list(ha.parameters()) + list(hb.parameters()), betas=(0.9, 0.99))
xa, xb, na, nb = (F.normalize(torch.randn(a.batch, a.dim), dim=1) for _ in range(4))


def step():
    pa, pb = ha(xa), hb(xb)
    qa, qb = ha(na), hb(nb)
    loss = distill(pa, qb) + distill(pb, qa) + consistency(pa, pb) - 5 * (entropy(pa) + entropy(pb))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(5):
    step()
times = []
for _ in range(a.steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({"side": "pytorch", "threads": a.threads, "msPerStep": 1000 * sum(times) / len(times), "msMedian": 1000 * times[len(times) // 2], "msMin": 1000 * times[0], "torch": torch.__version__}))
