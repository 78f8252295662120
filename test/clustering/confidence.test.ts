/**
 * k-means confidence: assignToCenters' nearest and second-nearest squared distances, and the
 * margin 1 - d1/d2 built from them (satc cluster's confidence column for --method kmeans).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignToCenters } from "../../src/clustering/kmeans.js";
import { marginConfidence } from "../../src/run/cluster.js";

const mat = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0].length });

test("second-nearest distances and the margin, by hand", async () => {
  // Centres at 0 and 10 on a line. x = 1: d1 = 1, d2 = 81 -> 1 - 1/9; x = 5: d1 = d2 = 25 -> 0;
  // x = 10: d1 = 0 -> 1; x = -2: d1 = 4, d2 = 144 -> 1 - 2/12.
  const a = await assignToCenters(mat([[1], [5], [10], [-2]]), mat([[0], [10]]));
  assert.deepEqual([...a.distances], [1, 25, 0, 4]);
  assert.deepEqual([...a.secondDistances], [81, 25, 100, 144]);
  const c = marginConfidence(a.distances, a.secondDistances);
  const want = [1 - 1 / 9, 0, 1, 1 - 2 / 12];
  want.forEach((w, i) => assert.ok(Math.abs(c[i] - w) < 1e-6, `${i}: ${c[i]} vs ${w}`));
});

test("one centre: no second centre, full confidence", async () => {
  const a = await assignToCenters(mat([[3, 4]]), mat([[0, 0]]));
  assert.equal(a.secondDistances[0], Infinity);
  assert.deepEqual([...marginConfidence(a.distances, a.secondDistances)], [1]);
});
