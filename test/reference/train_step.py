"""PyTorch reference for one satc/TAC training step of two clustering heads.

Writes test/fixtures/training/train_step.json, read by test/training/step.test.ts.
Run: /usr/bin/python3 test/reference/train_step.py   (torch 1.13 CPU)

The heads, losses and optimiser follow TAC's public code (XLearning-SCU/2024-ICML-TAC:
models.py ClusterHead, loss_utils.py DistillLoss / consistency_loss / entropy, train_head.py
Adam(betas=(0.9, 0.99)) with the default lr 1e-3): Linear -> BatchNorm1d -> ReLU -> Linear ->
Softmax per view; anchors and neighbours go through the heads as two separate batches (so BatchNorm
normalises each with its own statistics and updates its running statistics twice per step);
loss = Distill(p_a(anc), p_b(nb)) + Distill(p_b(anc), p_a(nb)) + 1 * Consist(p_a(anc), p_b(anc))
       - 5 * (H(mean p_a(anc)) + H(mean p_b(anc))).
Computed in float64 so the float64 JS reference can be compared tightly; two steps are taken so
Adam's moments and the running statistics of a second step are checked too.
Small shapes: view a d=16, view b d=12, hidden 32, K=4, batch 8, T=0.5.
"""
import json
import os

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

B, K, HIDDEN, T = 8, 4, 32, 0.5
DIMS = {"a": 16, "b": 12}
LAMBDA1, LAMBDA2 = 1.0, 5.0


def entropy(p):
    m = torch.clamp(p.mean(dim=0), min=1e-9)
    return -(m * torch.log(m)).sum()


def consistency_loss(p, q):
    s = (p * q).sum(dim=1)
    return F.binary_cross_entropy(s, torch.ones_like(s))


def distill_loss(c_i, c_j, temperature):
    k = c_i.shape[1]
    n = 2 * k
    c = F.normalize(torch.cat((c_i.t(), c_j.t()), dim=0), dim=1)
    sim = c @ c.t() / temperature
    mask = torch.ones((n, n)).fill_diagonal_(0)
    for i in range(k):
        mask[i, k + i] = 0
        mask[k + i, i] = 0
    mask = mask.bool()
    pos = torch.cat((torch.diag(sim, k), torch.diag(sim, -k))).reshape(n, 1)
    neg = sim[mask].reshape(n, -1)
    logits = torch.cat((pos, neg), dim=1)
    return F.cross_entropy(logits, torch.zeros(n, dtype=torch.long), reduction="sum") / n


def head(d):
    h = nn.Sequential(nn.Linear(d, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, K), nn.Softmax(dim=1))
    nn.init.trunc_normal_(h[0].weight, std=0.02)
    nn.init.trunc_normal_(h[3].weight, std=0.02)
    # Larger than TAC's std so the tiny test heads are not nearly uniform (stronger gradients to compare).
    with torch.no_grad():
        h[0].weight.mul_(10)
        h[3].weight.mul_(10)
    return h


heads = {v: head(d) for v, d in DIMS.items()}
inputs = {}
for v, d in DIMS.items():
    x = F.normalize(torch.randn(B, d), dim=1)
    nb = F.normalize(x + 0.3 * torch.randn(B, d), dim=1)
    inputs[v] = (x, nb)

params = [p for v in DIMS for p in heads[v].parameters()]
opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0)


def state(h):
    return {
        "w1": h[0].weight.detach().flatten().tolist(),
        "b1": h[0].bias.detach().flatten().tolist(),
        "gamma": h[1].weight.detach().flatten().tolist(),
        "beta": h[1].bias.detach().flatten().tolist(),
        "w2": h[3].weight.detach().flatten().tolist(),
        "b2": h[3].bias.detach().flatten().tolist(),
        "runningMean": h[1].running_mean.detach().flatten().tolist(),
        "runningVar": h[1].running_var.detach().flatten().tolist(),
    }


def grads(h):
    return {
        "w1": h[0].weight.grad.flatten().tolist(),
        "b1": h[0].bias.grad.flatten().tolist(),
        "gamma": h[1].weight.grad.flatten().tolist(),
        "beta": h[1].bias.grad.flatten().tolist(),
        "w2": h[3].weight.grad.flatten().tolist(),
        "b2": h[3].bias.grad.flatten().tolist(),
    }


fixture = {
    "generator": "test/reference/train_step.py (torch %s, float64)" % torch.__version__,
    "batch": B, "clusters": K, "hidden": HIDDEN, "temperature": T,
    "lambda1": LAMBDA1, "lambda2": LAMBDA2, "lr": 1e-3, "betas": [0.9, 0.99], "eps": 1e-8,
    "views": [{"name": v, "dim": d} for v, d in DIMS.items()],
    "inputs": {v: {"anchor": inputs[v][0].flatten().tolist(), "neighbor": inputs[v][1].flatten().tolist()} for v in DIMS},
    "initial": {v: state(heads[v]) for v in DIMS},
    "steps": [],
}

for step in range(2):
    for h in heads.values():
        h.train()
    pa = heads["a"](inputs["a"][0])
    pb = heads["b"](inputs["b"][0])
    na = heads["a"](inputs["a"][1])
    nbv = heads["b"](inputs["b"][1])
    distill = distill_loss(pa, nbv, T) + distill_loss(pb, na, T)
    consist = consistency_loss(pa, pb)
    ent = entropy(pa) + entropy(pb)
    loss = distill + LAMBDA1 * consist - LAMBDA2 * ent
    opt.zero_grad()
    loss.backward()
    g = {v: grads(heads[v]) for v in DIMS}
    opt.step()
    fixture["steps"].append({
        "loss": loss.item(), "distill": distill.item(), "consist": consist.item(), "entropy": ent.item(),
        "grads": g, "after": {v: state(heads[v]) for v in DIMS},
    })

# Inference (running statistics) on the anchors after the two steps.
for h in heads.values():
    h.eval()
with torch.no_grad():
    fixture["eval"] = {v: heads[v](inputs[v][0]).flatten().tolist() for v in DIMS}

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "training", "train_step.json")
with open(out, "w") as f:
    json.dump(fixture, f)
print("wrote", os.path.normpath(out), "loss", [s["loss"] for s in fixture["steps"]])
