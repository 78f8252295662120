"""Reference values for test/text/counterpart.test.ts (DESIGN 1.1 steps 2-4 and 1.2), in float64
numpy, written independently of satc (TAC's filter_nouns.py / retrieve_text.py recipe).

Run:  /usr/bin/python3 test/reference/text_reference.py
Writes test/fixtures/text/synthetic_{images,nouns,ztext}.npy and synthetic.json.

Geometry: 10 image groups of 271 images (N = 2710, so K1 = ceil(2710/300) = 10) along the first
10 axes of R^16, with noise in the other 6; 300 nouns: 8 per group at cosines 0.55..0.97 with its
axis (distinct, so the top 5 per centre are fixed), 220 random unit nouns. The groups are far
apart, so any k-means finds the same partition; labels are compared up to a permutation.
Retrieval logits reach cos/0.005 ~ 190: exp() of them overflows float32 without the max shift.
"""
import json
import os

import faiss
import numpy as np
from sklearn.cluster import KMeans

rng = np.random.default_rng(20260)
D, G, PER = 16, 10, 271
N = G * PER
out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "text")
os.makedirs(out, exist_ok=True)


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


# Images: axis g plus noise (not normalised: satc and TAC normalise them).
images = np.zeros((N, D))
for g in range(G):
    block = images[g * PER:(g + 1) * PER]
    block[:, g] = 1.0
    block[:, G:] = rng.normal(0, 0.25, (PER, D - G))
    block[:, :G] += rng.normal(0, 0.03, (PER, G))
images *= rng.uniform(0.5, 3.0, (N, 1))  # raw scale varies
images = images.astype(np.float32)

nouns = []
for g in range(G):
    for a in np.linspace(0.55, 0.97, 8) + rng.uniform(-0.01, 0.01, 8):
        v = rng.normal(0, 1, D)
        v[:G] = 0
        v = v / np.linalg.norm(v)
        e = np.zeros(D)
        e[g] = 1
        nouns.append(a * e + np.sqrt(1 - a * a) * v)
nouns += list(unit(rng.normal(0, 1, (220, D))))
nouns = np.array(nouns)
perm = rng.permutation(len(nouns))  # interleave, so selection order is not file order
nouns = (nouns[perm] * rng.uniform(0.5, 2.0, (len(nouns), 1))).astype(np.float32)

# --- reference computation, float64 ---
x = unit(images.astype(np.float64))
t = unit(nouns.astype(np.float64))
K1 = int(np.ceil(N / 300))
km = faiss.Kmeans(D, K1, spherical=True, niter=300, nredo=10, seed=1)
km.train(x.astype(np.float32))
_, I = km.index.search(x.astype(np.float32), 1)
labels = I.reshape(-1)
centers = unit(np.stack([x[labels == k].mean(0) for k in range(K1)]))

sim = centers @ t.T                                     # (K1, M)
p = np.exp(sim - sim.max(0, keepdims=True))
p = p / p.sum(0, keepdims=True)                         # softmax over centres, per noun
pred = p.argmax(0)
conf = p.max(0)
selected = np.zeros(len(t), bool)
for k in range(K1):
    idx = np.where(pred == k)[0]
    if len(idx) == 0:
        continue
    selected[idx[np.argsort(-conf[idx], kind="stable")[:5]]] = True
sel = np.where(selected)[0]

logits = x @ t[sel].T / 0.005
w = np.exp(logits - logits.max(1, keepdims=True))
w = w / w.sum(1, keepdims=True)
z = unit(w @ t[sel])

kt = KMeans(n_clusters=10, n_init=10, random_state=0).fit(z)
per = [((z[kt.labels_ == c] - z[kt.labels_ == c].mean(0)) ** 2).sum(1).mean() for c in range(10)]
tau = float(np.mean(per))

np.save(os.path.join(out, "synthetic_images.npy"), images)
np.save(os.path.join(out, "synthetic_nouns.npy"), nouns)
np.save(os.path.join(out, "synthetic_ztext.npy"), z.astype(np.float32))
with open(os.path.join(out, "synthetic.json"), "w") as f:
    json.dump({
        "generator": "test/reference/text_reference.py (numpy float64, faiss spherical k-means, scikit-learn KMeans)",
        "nImages": N, "centers": K1,
        "imageLabels": labels.tolist(),
        "selected": sel.tolist(),
        "selectedCenter": pred[sel].tolist(),
        "selectedConfidence": conf[sel].tolist(),
        "maxRetrievalLogit": float(logits.max()),
        "tau": tau,
        "tauPerCluster": sorted(float(v) for v in per),
    }, f, indent=1)
print("selected", len(sel), "tau", tau, "max logit", logits.max())
