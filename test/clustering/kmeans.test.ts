/**
 * k-means: hand-computed toy cases, empty-cluster re-seeding, spherical mode, determinism, errors,
 * and scikit-learn's Lloyd runs from given centres. Fixture test/fixtures/kmeans.json written by
 * `/usr/bin/python3 test/reference/kmeans_reference.py` (sklearn 1.2.1,
 * KMeans(init=array, n_init=1, algorithm="lloyd")); labels and iteration counts must match
 * exactly, centres to 1e-5 and inertia to 1e-5 relative (scikit-learn works in float32).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assignToCenters, kmeans } from "../../src/clustering/kmeans.js";
import { SatcError, UsageError } from "../../src/errors.js";
import type { Matrix } from "../../src/util/matrix.js";
import { Random } from "../../src/util/random.js";

const mat = (rows: number[][]): Matrix => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0].length });

/** Labels equal up to a renaming of the clusters. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

const TWO_SQUARES = mat([
  [0, 0], [0, 1], [1, 0], [1, 1],
  [10, 10], [10, 11], [11, 10], [11, 11],
]);

test("toy case: two unit squares give their centres, inertia 4, two iterations", async () => {
  // Each point is (0.5, 0.5) away from its square's centre: squared distance 0.5, 8 points -> 4.
  const r = await kmeans(TWO_SQUARES, 2, { init: mat([[0, 0], [11, 11]]) });
  assert.deepEqual(Array.from(r.labels), [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(r.centers.data), [0.5, 0.5, 10.5, 10.5]);
  assert.ok(Math.abs(r.inertia - 4) < 1e-5, `inertia ${r.inertia}`);
  // Iteration 1 moves the centres to the means; iteration 2 changes no label: strict convergence.
  assert.equal(r.iterations, 2);
  assert.deepEqual(r.warnings, []);

  const seeded = await kmeans(TWO_SQUARES, 2, { seed: 3 });
  assert.ok(samePartition(seeded.labels, [0, 0, 0, 0, 1, 1, 1, 1]));
  const centres = [Array.from(seeded.centers.data.subarray(0, 2)), Array.from(seeded.centers.data.subarray(2))].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(centres, [[0.5, 0.5], [10.5, 10.5]]);
  assert.ok(Math.abs(seeded.inertia - 4) < 1e-5);
  assert.equal(seeded.restarts.length, 10);
  assert.equal(seeded.inertia, Math.min(...seeded.restarts.map((x) => x.inertia)));
});

test("k = nSamples puts each point in its own cluster with inertia 0; k = 1 gives the mean", async () => {
  const x = mat([[1, 2], [3, 5], [-1, 0]]);
  const r = await kmeans(x, 3, { seed: 1 });
  assert.equal(new Set(r.labels).size, 3);
  assert.ok(r.inertia < 1e-6);
  const one = await kmeans(x, 1);
  assert.deepEqual(Array.from(one.labels), [0, 0, 0]);
  assert.ok(Math.abs(one.centers.data[0] - 1) < 1e-6 && Math.abs(one.centers.data[1] - 7 / 3) < 1e-6);
  // Squared distances to (1, 7/3): (0 + 1/9) + (4 + 64/9) + (4 + 49/9) = 8 + 114/9.
  assert.ok(Math.abs(one.inertia - (8 + 114 / 9)) < 1e-4, `inertia ${one.inertia}`);
});

test("an emptied cluster is re-seeded at the farthest point, with a warning, never NaN", async () => {
  const r = await kmeans(TWO_SQUARES, 3, { init: mat([[0, 0], [11, 11], [100, 100]]) });
  assert.ok(r.warnings.some((w) => /^cluster 2 emptied at iteration 1 of restart 0; re-seeded at row 3 /.test(w)), r.warnings.join("\n"));
  assert.ok(r.centers.data.every(Number.isFinite));
  assert.equal(new Set(r.labels).size, 3);
  assert.ok(r.inertia < 4, `three clusters should beat two (inertia 4), got ${r.inertia}`);
  // The result is a fixed point: re-assigning to the returned centres gives the same labels.
  const again = await assignToCenters(TWO_SQUARES, r.centers);
  assert.deepEqual(Array.from(again.labels), Array.from(r.labels));
});

test("duplicate points: fewer distinct clusters than k is reported, centres stay finite", async () => {
  const x = mat([[1, 1], [1, 1], [1, 1], [2, 2]]);
  const r = await kmeans(x, 3, { seed: 0, nInit: 2 });
  assert.ok(r.centers.data.every(Number.isFinite));
  assert.ok(r.warnings.some((w) => /only 2 distinct clusters found for k=3/.test(w)), r.warnings.join("\n"));
});

test("spherical mode: assignment by angle, centres are unit normalised means", async () => {
  // Two directions; the norms vary wildly, which must not matter in cosine mode.
  const x = mat([[1, 0.1], [100, -5], [3, 0.2], [0.1, 2], [-0.2, 50], [0.05, 1]]);
  const r = await kmeans(x, 2, { metric: "cosine", init: mat([[1, 0], [0, 1]]) });
  assert.deepEqual(Array.from(r.labels), [0, 0, 0, 1, 1, 1]);
  for (const [c, members] of [[0, [0, 1, 2]], [1, [3, 4, 5]]] as const) {
    // Expected centre: normalised sum of the normalised members.
    const s = [0, 0];
    for (const i of members) {
      const a = x.data[2 * i];
      const b = x.data[2 * i + 1];
      const norm = Math.hypot(a, b);
      s[0] += a / norm;
      s[1] += b / norm;
    }
    const norm = Math.hypot(s[0], s[1]);
    assert.ok(Math.abs(r.centers.data[2 * c] - s[0] / norm) < 1e-6);
    assert.ok(Math.abs(r.centers.data[2 * c + 1] - s[1] / norm) < 1e-6);
  }
  // Inertia = sum of (2 - 2 cos) between unit rows and their centres; equals assignToCenters' distances.
  const a = await assignToCenters(x, r.centers, "cosine");
  assert.deepEqual(Array.from(a.labels), Array.from(r.labels));
  const total = a.distances.reduce((p, v) => p + v, 0);
  assert.ok(Math.abs(total - r.inertia) < 1e-5, `${total} vs ${r.inertia}`);
  // Euclidean k-means on the same points groups by norm instead.
  const e = await kmeans(x, 2, { init: mat([[1, 0], [0, 1]]) });
  assert.ok(!samePartition(e.labels, r.labels));
});

test("same seed, same result; the restarts share one generator", async () => {
  const random = new Random(11);
  const x = mat(Array.from({ length: 200 }, () => [random.normal(), random.normal(), random.normal()]));
  const a = await kmeans(x, 5, { seed: 42, nInit: 4 });
  const b = await kmeans(x, 5, { seed: 42, nInit: 4 });
  assert.deepEqual(a, b);
  const c = await kmeans(x, 5, { random: new Random(42), nInit: 4 });
  assert.deepEqual(c.restarts, a.restarts);
  // Restarts differ from each other (each draws new k-means++ centres from the shared generator).
  assert.ok(new Set(a.restarts.map((r) => r.inertia)).size > 1, JSON.stringify(a.restarts));
  const d = await kmeans(x, 5, { seed: 43, nInit: 4 });
  assert.notDeepEqual(d.restarts, a.restarts);
});

test("progress events count iterations and restarts", async () => {
  const events: { restart: number; iteration: number }[] = [];
  const r = await kmeans(TWO_SQUARES, 2, { seed: 0, nInit: 3, onProgress: (e) => events.push(e) });
  assert.equal(events.length, r.restarts.reduce((s, x) => s + x.iterations, 0));
  assert.deepEqual([...new Set(events.map((e) => e.restart))], [0, 1, 2]);
});

test("errors carry the numbers", async () => {
  await assert.rejects(kmeans(TWO_SQUARES, 9), (e: unknown) => e instanceof UsageError && e.message === "k-means: nSamples=8 should be >= k=9");
  await assert.rejects(kmeans(TWO_SQUARES, 0), (e: unknown) => e instanceof UsageError && /expected an integer >= 1 for k but received 0/.test(e.message));
  await assert.rejects(kmeans(TWO_SQUARES, 2.5), UsageError);
  await assert.rejects(
    kmeans(TWO_SQUARES, 2, { metric: "manhattan" as "cosine" }),
    (e: unknown) => e instanceof UsageError && e.message === "expected 'euclidean' or 'cosine' for metric but received 'manhattan'",
  );
  await assert.rejects(kmeans(TWO_SQUARES, 2, { init: mat([[0, 0, 0], [1, 1, 1]]) }), /init has shape \(2, 3\), expected \(k, nFeatures\) = \(2, 2\)/);
  await assert.rejects(kmeans(TWO_SQUARES, 2, { nInit: 0 }), /nInit/);
  const bad = mat([[0, 0], [1, NaN], [2, 2]]);
  await assert.rejects(kmeans(bad, 2), (e: unknown) => e instanceof SatcError && /value NaN at row 1, column 1 is not finite/.test(e.message));
  await assert.rejects(assignToCenters(TWO_SQUARES, mat([[1, 2, 3]])), /x has 2 features but centers have 3/);
});

interface RefCase {
  name: string;
  rows: number;
  cols: number;
  x: number[];
  init: number[];
  tol: number;
  maxIter: number;
  labels: number[];
  centers: number[];
  inertia: number;
  iterations: number;
}
const fixture = JSON.parse(readFileSync(new URL("../../../test/fixtures/kmeans.json", import.meta.url), "utf8")) as { cases: RefCase[] };

for (const c of fixture.cases) {
  test(`same as scikit-learn from the same initial centres: ${c.name}`, async () => {
    const k = c.init.length / c.cols;
    const x: Matrix = { data: Float32Array.from(c.x), rows: c.rows, cols: c.cols };
    const init: Matrix = { data: Float32Array.from(c.init), rows: k, cols: c.cols };
    const r = await kmeans(x, k, { init, tol: c.tol, maxIter: c.maxIter });
    assert.deepEqual(Array.from(r.labels), c.labels);
    assert.equal(r.iterations, c.iterations);
    for (let j = 0; j < c.centers.length; j++) {
      assert.ok(Math.abs(r.centers.data[j] - c.centers[j]) < 1e-5, `centre value ${j}: ${r.centers.data[j]} vs ${c.centers[j]}`);
    }
    assert.ok(Math.abs(r.inertia - c.inertia) <= 1e-5 * c.inertia, `inertia ${r.inertia} vs ${c.inertia}`);
  });
}
