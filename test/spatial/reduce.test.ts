/** Channel reduction: Jacobi eigen, randomised PCA against the exact covariance eigenvectors, application, store round trip. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Random } from "../../src/util/random.js";
import { FeatureStore, type FeatureKey } from "../../src/features/store.js";
import { applyChannelReduction, fitChannelReduction, reducedNodes, symmetricEigen } from "../../src/spatial/reduce.js";
import type { PatchNodes } from "../../src/spatial/graph.js";

test("symmetricEigen: A v = lambda v, values descending, orthonormal vectors", () => {
  const rng = new Random(1), n = 7;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  const { values, vectors } = symmetricEigen(a, n);
  for (let r = 0; r < n; r++) {
    if (r > 0) assert.ok(values[r] <= values[r - 1]);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[r * n + j];
      assert.ok(Math.abs(av - values[r] * vectors[r * n + i]) < 1e-9);
    }
    for (let s = 0; s < n; s++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += vectors[r * n + j] * vectors[s * n + j];
      assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-9);
    }
  }
});

/** Nodes = a few strong directions with decreasing scales + an offset + small noise: (n, N, c). */
function lowRankNodes(rng: Random, n: number, N: number, c: number, rank: number): PatchNodes {
  const dirs = Array.from({ length: rank }, () => Array.from({ length: c }, () => rng.normal()));
  const offset = Array.from({ length: c }, () => rng.normal());
  const data = new Float32Array(n * N * c);
  for (let i = 0; i < n * N; i++) {
    const coef = dirs.map((_, r) => rng.normal() * (rank - r) * 2);
    for (let j = 0; j < c; j++) {
      let v = offset[j] + 0.05 * rng.normal();
      for (let r = 0; r < rank; r++) v += coef[r] * dirs[r][j];
      data[i * c + j] = v;
    }
  }
  return { data, shape: [n, N, c] };
}

test("fitChannelReduction pca: the top components span the covariance's leading eigenvectors", async () => {
  const rng = new Random(2);
  const c = 24, d = 3;
  const nodes = lowRankNodes(rng, 60, 9, c, d);
  const r = await fitChannelReduction(nodes, { channels: d, threads: 1, sampleNodes: 1e9 });
  assert.equal(r.method, "pca");
  // Exact covariance of all nodes, float64.
  const m = 60 * 9, mean = new Float64Array(c), cov = new Float64Array(c * c);
  for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) mean[j] += nodes.data[i * c + j] / m;
  for (let i = 0; i < m; i++) for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) {
    cov[a * c + b] += (nodes.data[i * c + a] - mean[a]) * (nodes.data[i * c + b] - mean[b]) / (m - 1);
  }
  const exact = symmetricEigen(cov, c);
  for (let k = 0; k < d; k++) {
    let dot = 0;
    for (let j = 0; j < c; j++) dot += r.components[k * c + j] * exact.vectors[k * c + j];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-4, `component ${k}: |cos| = ${Math.abs(dot)}`);
    assert.ok(Math.abs(r.variance![k] - exact.values[k]) < 1e-3 * exact.values[k], `variance ${k}: ${r.variance![k]} vs ${exact.values[k]}`);
    assert.ok(Math.abs(r.mean[k] - mean[k]) < 1e-4);
  }
  let kept = 0;
  for (const v of r.variance!) kept += v;
  assert.ok(kept / r.totalVariance! > 0.99, `kept ${kept / r.totalVariance!}`);
});

test("applyChannelReduction: (x - mean) P^T for pca and projection; identity when d_r >= c", async () => {
  const rng = new Random(3);
  const nodes = lowRankNodes(rng, 5, 4, 10, 2);
  for (const method of ["pca", "projection"] as const) {
    const r = await fitChannelReduction(nodes, { channels: 4, method, threads: 1 });
    const out = await applyChannelReduction(nodes, r, { threads: 1, chunkNodes: 7 });
    assert.deepEqual(out.shape, [5, 4, 4]);
    for (let i = 0; i < 20; i++) for (let o = 0; o < 4; o++) {
      let s = 0;
      for (let j = 0; j < 10; j++) s += (nodes.data[i * 10 + j] - r.mean[j]) * r.components[o * 10 + j];
      assert.ok(Math.abs(out.data[i * 4 + o] - s) < 1e-4, `${method} node ${i} channel ${o}`);
    }
  }
  const same = await fitChannelReduction(nodes, { channels: 16 });
  assert.equal(same.method, "identity");
  assert.equal(await applyChannelReduction(nodes, same), nodes);
});

test("reducedNodes: stored beside the features and reused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "satc-reduce-"));
  try {
    const store = new FeatureStore(dir);
    const key: FeatureKey = { input: { source: "x", fingerprint: "f", n: 6 }, encoder: { name: "resnet50", options: { a: 1 } } };
    const nodes = lowRankNodes(new Random(4), 6, 4, 12, 2);
    const first = await reducedNodes(store, key, nodes, { channels: 3, threads: 1 });
    assert.equal(first.cached, false);
    const second = await reducedNodes(store, key, nodes, { channels: 3, threads: 1 });
    assert.equal(second.cached, true);
    assert.deepEqual(second.nodes.shape, [6, 4, 3]);
    assert.deepEqual(Array.from(second.nodes.data), Array.from(first.nodes.data));
    assert.deepEqual(Array.from(second.reduction.components), Array.from(first.reduction.components));
    const other = await reducedNodes(store, key, nodes, { channels: 2, threads: 1 });
    assert.equal(other.cached, false, "other options, other entry");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
