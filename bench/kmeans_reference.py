"""k-means on Fashion-MNIST test pixels with scikit-learn and faiss, for bench/kmeans.ts.

Usage: /usr/bin/python3 bench/kmeans_reference.py IMAGES_IDX_GZ [--threads 2] [--repeats 1]
Prints one JSON document: per run its settings, fit seconds (best of --repeats) and centres;
bench/kmeans.ts computes inertia and scores for every run with one code path.
Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (bench/kmeans.ts does) so numpy's BLAS
picks its own kernel; the kernel that ran is reported (threadpoolctl).
"""
import argparse
import gzip
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("images")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=1)
ap.add_argument("--clusters", type=int, default=10)
ap.add_argument("--restarts", type=int, default=10)
args = ap.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402  (after the thread variables)
import faiss  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

faiss.omp_set_num_threads(args.threads)
raw = gzip.open(args.images).read()
n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
X = np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32) / np.float32(255)
Xunit = X / np.linalg.norm(X, axis=1, keepdims=True)
K, R = args.clusters, args.restarts


cpu_of = {}


def best_time(fit):
    """Best wall time of --repeats fits; the CPU seconds (all threads) of that fit go to cpu_of."""
    best, out, cpu = float("inf"), None, 0.0
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fit()
        wall = time.perf_counter() - t
        if wall < best:
            best, cpu = wall, time.process_time() - c
    cpu_of[id(out)] = cpu
    return best, out


runs = []


def add(name, library, metric, settings, seconds, centers, reported, model):
    runs.append({
        "name": name, "library": library, "metric": metric, "settings": settings,
        "seconds": seconds, "cpuSeconds": cpu_of[id(model)], "centers": np.asarray(centers, np.float64).ravel().tolist(),
        "reportedObjective": reported,
    })


with threadpool_limits(limits=args.threads):
    s, km = best_time(lambda: KMeans(K, n_init=R, random_state=0, algorithm="lloyd").fit(X))
    add("scikit-learn KMeans", "sklearn", "euclidean",
        f"n_init={R}, k-means++, max_iter=300, tol=1e-4, full data (n_iter of best: {km.n_iter_})",
        s, km.cluster_centers_, float(km.inertia_), km)

    def faiss_fit(data, spherical, **kw):
        f = faiss.Kmeans(data.shape[1], K, nredo=R, seed=1234, spherical=spherical, **kw)
        f.train(data)
        return f

    for spherical, data, metric in ((False, X, "euclidean"), (True, Xunit, "cosine")):
        label = "faiss spherical" if spherical else "faiss"
        s, f = best_time(lambda: faiss_fit(data, spherical))
        add(f"{label} (defaults)", "faiss", metric,
            f"nredo={R}, random init, niter={f.cp.niter}, subsample {f.cp.max_points_per_centroid}*K={f.cp.max_points_per_centroid * K} points",
            s, f.centroids, float(f.obj[-1]), f)
        s, f = best_time(lambda: faiss_fit(data, spherical, niter=25, max_points_per_centroid=n))
        add(f"{label} (full data, 25 it)", "faiss", metric,
            f"nredo={R}, random init, niter=25, no subsampling", s, f.centroids, float(f.obj[-1]), f)

blas = [
    {k: v for k, v in info.items() if k in ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")}
    for info in threadpool_info()
]
print(json.dumps({
    "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "sklearn": sklearn.__version__, "faiss": faiss.__version__},
    "threads": args.threads,
    "blas": blas,
    "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    "runs": runs,
}))
