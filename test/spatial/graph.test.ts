/** Patch graph: ONNX batched top-k against a brute-force float64 computation. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import { buildPatchGraph, graphMasks, type PatchNodes } from "../../src/spatial/graph.js";

function randomNodes(rng: Random, n: number, N: number, c: number): PatchNodes {
  return { data: Float32Array.from({ length: n * N * c }, () => rng.normal()), shape: [n, N, c] };
}

/** Cosine similarity of nodes u, v of image i, in float64. */
function cosine(x: PatchNodes, i: number, u: number, v: number): number {
  const [, N, c] = x.shape;
  let uv = 0, uu = 0, vv = 0;
  for (let j = 0; j < c; j++) {
    const a = x.data[(i * N + u) * c + j], b = x.data[(i * N + v) * c + j];
    uv += a * b; uu += a * a; vv += b * b;
  }
  return uv / Math.sqrt(uu * vv);
}

test("buildPatchGraph: self loop first, then the k most cosine-similar nodes of the same image", async () => {
  const rng = new Random(3);
  const x = randomNodes(rng, 13, 11, 5);
  const k = 4;
  const g = await buildPatchGraph(x, { k, batchSize: 5 }); // several batches, the last one short
  assert.equal(g.degree, k + 1);
  for (let i = 0; i < 13; i++) {
    for (let u = 0; u < 11; u++) {
      const row = Array.from(g.neighbors.subarray((i * 11 + u) * (k + 1), (i * 11 + u + 1) * (k + 1)));
      assert.equal(row[0], u);
      const brute = Array.from({ length: 11 }, (_, v) => v).filter((v) => v !== u)
        .sort((a, b) => cosine(x, i, u, b) - cosine(x, i, u, a)).slice(0, k);
      // Equal indices, or (near ties in float32) equal similarities.
      for (let e = 0; e < k; e++) {
        if (row[1 + e] !== brute[e]) assert.ok(Math.abs(cosine(x, i, u, row[1 + e]) - cosine(x, i, u, brute[e])) < 1e-5, `image ${i} node ${u} rank ${e}`);
      }
    }
  }
});

test("buildPatchGraph: k = 0 keeps the self loops only; too large k is a usage error", async () => {
  const x = randomNodes(new Random(1), 2, 4, 3);
  const g = await buildPatchGraph(x, { k: 0 });
  assert.deepEqual(Array.from(g.neighbors), [0, 1, 2, 3, 0, 1, 2, 3]);
  await assert.rejects(buildPatchGraph(x, { k: 4 }), /k=4 neighbours need at least 5 nodes/);
});

test("graphMasks: 0 on the edges and the self loop, blocked elsewhere", async () => {
  const x = randomNodes(new Random(2), 3, 6, 4);
  const g = await buildPatchGraph(x, { k: 2 });
  const m = graphMasks(g, [2, 0], undefined, -1);
  for (let b = 0; b < 2; b++) {
    const img = [2, 0][b];
    for (let u = 0; u < 6; u++) {
      const nb = new Set(Array.from(g.neighbors.subarray((img * 6 + u) * 3, (img * 6 + u + 1) * 3)));
      for (let v = 0; v < 6; v++) assert.equal(m[(b * 6 + u) * 6 + v], nb.has(v) ? 0 : -1);
    }
  }
});
