"""PyTorch reference of satc's spatial encoders (src/spatial/encoders.ts) on tiny shapes.

Writes test/fixtures/spatial/encoders.json: for gat, gcn and transformer (positions off and on),
inputs, parameters, dz, the output z and the gradients of sum(z * dz), all computed by autograd
in float64. The formulation is independent of satc's (torch ops, the way bench/spatial_torch.py
writes the GAT), so the test checks that satc computes the same model.

    /usr/bin/python3 test/reference/spatial_encoders.py
"""
import json
import math
import os

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
B, N, C, H, F = 3, 5, 4, 2, 3


def encoder(kind, p, x, mask, positions):
    heads = 1 if kind == "gcn" else H
    f = 6 if kind == "gcn" else F
    if positions:
        x = torch.cat([x, torch.eye(N).expand(x.shape[0], N, N)], dim=2)
    c = x.shape[2]
    per_head = lambda w: w.view(heads, f, c).transpose(1, 2)  # (H, c, F)
    if kind == "gcn":
        a = torch.softmax(mask, dim=-1)
        out = ((a @ x).unsqueeze(1) @ per_head(p["w"]))
    elif kind == "gat":
        hh = x.unsqueeze(1) @ per_head(p["w"])
        s = hh @ p["a_src"].view(heads, f, 1)
        t = (hh @ p["a_dst"].view(heads, f, 1)).transpose(2, 3)
        alpha = torch.softmax(torch.nn.functional.leaky_relu(s + t, 0.2) + mask.unsqueeze(1), dim=-1)
        out = alpha @ hh
    else:
        q, k, v = (x.unsqueeze(1) @ per_head(p[n]) for n in ("wq", "wk", "wv"))
        out = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(f), dim=-1) @ v
    y = torch.nn.functional.elu(out + p["bias"].view(heads, 1, f))
    return y.mean(dim=2).reshape(x.shape[0], heads * f)


cases = []
for kind in ("gat", "gcn", "transformer"):
    for positions in (False, True):
        heads, f = (1, 6) if kind == "gcn" else (H, F)
        D, c = heads * f, C + (N if positions else 0)
        x = torch.randn(B, N, C)
        mask = torch.full((B, N, N), -1e9)
        for b in range(B):
            for u in range(N):
                mask[b, u, u] = 0
                mask[b, u, torch.randint(0, N, (2,))] = 0
        shapes = {"gat": {"w": (D, c), "a_src": (heads, f), "a_dst": (heads, f), "bias": (D,)},
                  "gcn": {"w": (D, c), "bias": (D,)},
                  "transformer": {"wq": (D, c), "wk": (D, c), "wv": (D, c), "bias": (D,)}}[kind]
        p = {n: (torch.randn(*s) * 0.7).requires_grad_() for n, s in shapes.items()}
        dz = torch.randn(B, D)
        m = mask if kind != "transformer" else torch.zeros(B, N, N)
        z = encoder(kind, p, x, m, positions)
        (z * dz).sum().backward()
        cases.append({
            "kind": kind, "positions": positions, "batch": B, "nodes": N, "channels": C, "heads": heads, "headDim": f,
            "x": x.flatten().tolist(), "mask": mask.flatten().tolist() if kind != "transformer" else None,
            "params": {n: t.detach().flatten().tolist() for n, t in p.items()},
            "dz": dz.flatten().tolist(), "z": z.detach().flatten().tolist(),
            "grads": {n: t.grad.flatten().tolist() for n, t in p.items()},
        })

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "spatial", "encoders.json")
with open(out, "w") as fh:
    json.dump({"torch": torch.__version__, "cases": cases}, fh)
print("wrote", out, len(cases), "cases")
