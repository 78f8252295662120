/** mineNeighbors against a brute-force JS cosine top-k on small random data. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mineNeighbors } from "../../src/clustering/neighbors.js";
import { Random } from "../../src/util/random.js";
import type { Matrix } from "../../src/util/matrix.js";

function randomMatrix(rng: Random, rows: number, cols: number): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal() * (1 + rng.next())), rows, cols };
}

/** Brute force in float64: cosine of every pair, sort, drop self. */
function bruteForce(x: Matrix, k: number): Int32Array {
  const { rows: n, cols: d, data } = x;
  const norm = Array.from({ length: n }, (_, i) => Math.hypot(...data.subarray(i * d, (i + 1) * d)));
  const out = new Int32Array(n * k);
  for (let i = 0; i < n; i++) {
    const sims: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += data[i * d + c] * data[j * d + c];
      sims.push([s / (norm[i] * norm[j]), j]);
    }
    sims.sort((a, b) => b[0] - a[0]);
    for (let r = 0; r < k; r++) out[i * k + r] = sims[r][1];
  }
  return out;
}

test("mineNeighbors equals brute force, across several blocks (last one partial), self excluded, most similar first", async () => {
  const x = randomMatrix(new Random(7), 300, 8);
  const copy = x.data.slice();
  const events: number[] = [];
  const got = await mineNeighbors(x, 10, { blockSize: 64, threads: 1, onProgress: (e) => events.push(e.done) });
  assert.deepEqual(Array.from(got), Array.from(bruteForce(x, 10)));
  assert.deepEqual(events, [64, 128, 192, 256, 300]);
  assert.deepEqual(x.data, copy, "input untouched");
});

test("mineNeighbors excludes the item itself even when it has exact duplicates", async () => {
  // Rows 0, 1, 2 identical: each must list the two others first, never itself.
  const rng = new Random(8);
  const x = randomMatrix(rng, 20, 4);
  x.data.copyWithin(4, 0, 4);
  x.data.copyWithin(8, 0, 4);
  const got = await mineNeighbors(x, 3, { blockSize: 7, threads: 1 });
  for (const i of [0, 1, 2]) {
    const row = Array.from(got.subarray(i * 3, i * 3 + 3));
    assert.ok(!row.includes(i), `row ${i} lists itself: ${row}`);
    assert.deepEqual(row.slice(0, 2).sort(), [0, 1, 2].filter((j) => j !== i));
  }
});

test("mineNeighbors rejects k >= n_samples with the numbers", async () => {
  await assert.rejects(mineNeighbors(randomMatrix(new Random(1), 5, 3), 5), /k=5 .* n_samples=5/);
});
