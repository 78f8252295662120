"""PyTorch CPU reference for the epoch time of SATC's training with the GAT spatial view.

Same model and shapes as `node dist/bench/spatial_epoch.js`: Fashion-MNIST-sized random data
(60,000 items; visual view 784-d; spatial view 49 nodes x 16 channels, patch graph k = 8 + self
loop as a dense additive mask), GAT with H heads of F (dense masked attention, LeakyReLU 0.2,
softmax over neighbours, ELU, mean over nodes), one head per view (Linear(d,512) -> BatchNorm1d
-> ReLU -> Linear(512,K) -> Softmax), TAC's losses on the pair visual-spatial, Adam for heads and
encoder. Each step: batch of B anchors + B neighbours per view; the GAT runs on the 2B spatial
items. Neighbour draws and gathers are part of the step, as in satc.

    /usr/bin/python3 bench/spatial_torch.py [--threads 2] [--steps 20] [--n 60000] [--heads 4] [--head-dim 32]

Prints ms/step and the extrapolated s/epoch (floor(n / B) steps).
"""
import argparse
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from tac_torch import TacLosses

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--n", type=int, default=60000)
p.add_argument("--batch", type=int, default=512)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--head-dim", type=int, default=32)
p.add_argument("--k", type=int, default=8)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

n, N, c, dv, K, B = args.n, 49, 16, 784, 10, args.batch
H, Fh = args.heads, args.head_dim
D = H * Fh

glob = F.normalize(torch.randn(n, dv), dim=1)
nodes = torch.randn(n, N, c)
# Patch graph as in satc: self loop + k most cosine-similar nodes of the same image.
with torch.no_grad():
    graph = torch.empty(n, N, args.k + 1, dtype=torch.long)
    for s in range(0, n, 4096):
        u = F.normalize(nodes[s:s + 4096], dim=2)
        sim = u @ u.transpose(1, 2) - 1e9 * torch.eye(N)
        graph[s:s + 4096, :, 1:] = sim.topk(args.k, dim=2).indices
        graph[s:s + 4096, :, 0] = torch.arange(N)
nbr_visual = torch.randint(0, n, (n, 50))
nbr_spatial = torch.randint(0, n, (n, 50))


class GAT(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(D, c))
        self.a_src = nn.Parameter(torch.empty(H, Fh))
        self.a_dst = nn.Parameter(torch.empty(H, Fh))
        self.bias = nn.Parameter(torch.zeros(D))
        nn.init.xavier_uniform_(self.w)
        nn.init.xavier_uniform_(self.a_src)
        nn.init.xavier_uniform_(self.a_dst)

    def forward(self, x, mask):  # x (b, N, c), mask (b, N, N)
        hh = (x.unsqueeze(1) @ self.w.view(H, Fh, c).transpose(1, 2))  # (b, H, N, F)
        s = hh @ self.a_src.view(H, Fh, 1)
        t = (hh @ self.a_dst.view(H, Fh, 1)).transpose(2, 3)
        e = F.leaky_relu(s + t, 0.2) + mask.unsqueeze(1)
        alpha = torch.softmax(e, dim=-1)
        y = F.elu(alpha @ hh + self.bias.view(H, 1, Fh))
        return y.mean(dim=2).reshape(-1, D)


class Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.l1, self.bn, self.l2 = nn.Linear(d, 512), nn.BatchNorm1d(512), nn.Linear(512, K)

    def forward(self, x):
        return torch.softmax(self.l2(F.relu(self.bn(self.l1(x)))), dim=1)


losses = TacLosses(K, 0.5)
distill, consist, entropy = losses.distill, losses.consistency, losses.entropy


gat, hv, hs = GAT(), Head(dv), Head(D)
opt_heads = torch.optim.Adam(list(hv.parameters()) + list(hs.parameters()), betas=(0.9, 0.99))
opt_gat = torch.optim.Adam(gat.parameters(), betas=(0.9, 0.99))


def masks(idx):
    m = torch.full((len(idx), N, N), -1e9)
    m.scatter_(2, graph[idx], 0.0)
    return m


def step(anchors):
    nv = nbr_visual[anchors, torch.randint(0, 50, (B,))]
    ns = nbr_spatial[anchors, torch.randint(0, 50, (B,))]
    sp_idx = torch.cat([anchors, ns])
    z = gat(nodes[sp_idx], masks(sp_idx))
    pv_a, pv_n = hv(glob[anchors]), hv(glob[nv])
    ps_a, ps_n = hs(z[:B]), hs(z[B:])
    loss = distill(pv_a, ps_n) + distill(ps_a, pv_n) + consist(pv_a, ps_a) - 5 * (entropy(pv_a) + entropy(ps_a))
    opt_heads.zero_grad()
    opt_gat.zero_grad()
    loss.backward()
    opt_heads.step()
    opt_gat.step()
    return loss.item()


perm = torch.randperm(n)
step(perm[:B])  # warm-up
t0 = time.perf_counter()
for s in range(args.steps):
    step(perm[(s + 1) * B:(s + 2) * B])
ms = (time.perf_counter() - t0) / args.steps * 1000
print(f"torch {torch.__version__} threads {args.threads}: GAT {H}x{Fh} + 2 heads, batch {B}: {ms:.1f} ms/step, "
      f"{ms * (n // B) / 1000:.1f} s/epoch ({n // B} steps); load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
