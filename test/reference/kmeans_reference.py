"""Reference runs for src/clustering/kmeans.ts: scikit-learn's Lloyd k-means from given centres.

Run: /usr/bin/python3 test/reference/kmeans_reference.py  (writes test/fixtures/kmeans.json)
KMeans(n_clusters=k, init=<array>, n_init=1, algorithm="lloyd", tol=1e-4, max_iter=300) on small
float32 datasets (blobs of different spreads, so several iterations are needed). The data are
float32 values, stored exactly as JSON numbers.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans

rng = np.random.default_rng(7)
cases = []


def add(name, X, init, tol=1e-4, max_iter=300):
    X = X.astype(np.float32)
    init = init.astype(np.float32)
    km = KMeans(n_clusters=len(init), init=init.copy(), n_init=1, algorithm="lloyd", tol=tol, max_iter=max_iter)
    km.fit(X)
    cases.append({
        "name": name,
        "rows": X.shape[0],
        "cols": X.shape[1],
        "x": [float(v) for v in X.ravel()],
        "init": [float(v) for v in init.ravel()],
        "tol": tol,
        "maxIter": max_iter,
        "labels": km.labels_.tolist(),
        "centers": [float(v) for v in km.cluster_centers_.ravel()],
        "inertia": float(km.inertia_),
        "iterations": int(km.n_iter_),
    })


# Overlapping blobs in 5 dimensions, starting from rows of the data.
means = rng.normal(0, 3, (4, 5))
X = np.concatenate([m + rng.normal(0, s, (30, 5)) for m, s in zip(means, [1.0, 2.0, 1.5, 3.0])])
add("4 overlapping blobs, init at rows 0, 1, 2, 3", X, X[[0, 1, 2, 3]])
add("4 overlapping blobs, k=6, init at random rows", X, X[rng.choice(len(X), 6, replace=False)])
add("4 overlapping blobs, tol=0, max_iter=3", X, X[[5, 40, 70, 100]], tol=0.0, max_iter=3)
# Uniform noise: no structure, many Lloyd steps.
U = rng.random((80, 3))
add("uniform cube, k=5", U, U[:5])

out = {"generator": "test/reference/kmeans_reference.py", "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__}, "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "kmeans.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}: iterations", [c["iterations"] for c in cases])
