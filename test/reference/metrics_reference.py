"""Reference values for src/evaluation/metrics.ts (ACC, NMI, ARI, contingency table).

Run: /usr/bin/python3 test/reference/metrics_reference.py  (writes test/fixtures/metrics.json)
scikit-learn 1.2.1 (NMI: normalized_mutual_info_score, arithmetic average; ARI: adjusted_rand_score),
ACC: scipy.optimize.linear_sum_assignment(maximize=True) over the full contingency table, where
the table has a column for every cluster 0..n_clusters-1, empty ones included.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def acc(y_true, y_pred, n_classes=None, n_clusters=None):
    classes = np.arange(n_classes) if n_classes is not None else np.unique(y_true)
    clusters = np.arange(n_clusters) if n_clusters is not None else np.unique(y_pred)
    table = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(table, (np.searchsorted(classes, y_true), np.searchsorted(clusters, y_pred)), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return table[rows, cols].sum() / len(y_true), table


rng = np.random.default_rng(20240601)
cases = []


def add(name, y_true, y_pred, n_classes=None, n_clusters=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    a, table = acc(y_true, y_pred, n_classes, n_clusters)
    cases.append({
        "name": name,
        "yTrue": y_true.tolist(),
        "yPred": y_pred.tolist(),
        "nClasses": n_classes,
        "nClusters": n_clusters,
        "acc": float(a),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "table": table.tolist(),
    })


# Random pairs: different numbers of classes and clusters, both ways.
for n, kt, kp in [(50, 3, 3), (200, 10, 10), (300, 5, 12), (300, 12, 5), (1000, 10, 7), (37, 2, 9), (500, 20, 20)]:
    add(f"random n={n} classes={kt} clusters={kp}", rng.integers(0, kt, n), rng.integers(0, kp, n))
# Correlated pairs (a noisy clustering of the classes), where the metrics are far from 0.
for n, k, noise in [(400, 10, 0.3), (1000, 4, 0.5), (250, 7, 0.1)]:
    y = rng.integers(0, k, n)
    perm = rng.permutation(k)
    p = perm[y].copy()
    flip = rng.random(n) < noise
    p[flip] = rng.integers(0, k, flip.sum())
    add(f"noisy n={n} k={k} noise={noise}", y, p)
# Adversarial cases.
y = rng.integers(0, 6, 120)
add("relabelled perfect match", y, np.array([5, 3, 0, 1, 4, 2])[y])
add("identical", y, y)
add("empty clusters (clusters 2, 7, 9 of 10 unused)", y, np.array([0, 1, 3, 4, 5, 6, 8])[rng.integers(0, 7, 120)], None, 10)
add("empty classes and clusters", rng.integers(1, 4, 80), rng.integers(2, 5, 80), 6, 8)
add("one class, many clusters", np.zeros(60, dtype=int), rng.integers(0, 5, 60))
add("many classes, one cluster", rng.integers(0, 5, 60), np.zeros(60, dtype=int))
add("one class, one cluster", np.full(30, 3), np.full(30, 7))
add("every item its own cluster", rng.integers(0, 4, 40), np.arange(40))
add("negative and sparse label values", rng.choice([-5, 0, 17, 1000], 90), rng.choice([-1, 3, 99], 90))
add("two items, split", [0, 0], [0, 1])
add("two items, merged", [0, 1], [1, 1])
add("single item", [4], [2])
add("fewer clusters than classes, exact merge", [0, 0, 1, 1, 2, 2, 3, 3], [0, 0, 0, 0, 1, 1, 1, 1])
add("ACC trap: greedy matching is wrong", [0] * 5 + [1] * 5 + [2] * 5, [0, 0, 0, 1, 1] + [0, 0, 0, 0, 2] + [1, 1, 1, 2, 2])

out = {
    "generator": "test/reference/metrics_reference.py",
    "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
    "cases": cases,
}
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")
