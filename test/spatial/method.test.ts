/** trainSatc / predictSatc on small synthetic data: views, pairs, variants, scoring other items (seconds). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import type { Matrix } from "../../src/util/matrix.js";
import type { PatchNodes } from "../../src/spatial/graph.js";
import { poolNodes, predictSatc, releaseSatc, restartSeed, trainSatc, spatialVariants } from "../../src/spatial/method.js";
import { evaluateClustering } from "../../src/evaluation/metrics.js";

/**
 * n items of k classes: a noisy global vector around a class centre, and N nodes whose features
 * are class-specific patterns per node plus noise.
 */
function synthetic(rng: Random, n: number, k: number, N: number, c: number, d: number) {
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal()));
  const patterns = Array.from({ length: k }, () => Array.from({ length: N * c }, () => rng.normal()));
  const global = new Float32Array(n * d), nodes = new Float32Array(n * N * c), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = (labels[i] = i % k);
    for (let j = 0; j < d; j++) global[i * d + j] = centres[y][j] + 0.6 * rng.normal();
    for (let j = 0; j < N * c; j++) nodes[i * N * c + j] = patterns[y][j] + 0.6 * rng.normal();
  }
  return { global: { data: global, rows: n, cols: d } as Matrix, patches: { data: nodes, shape: [n, N, c] } as PatchNodes, labels };
}

test("poolNodes: mean over nodes", () => {
  const p: PatchNodes = { data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), shape: [2, 2, 2] };
  assert.deepEqual(Array.from(poolNodes(p).data), [2, 3, 6, 7]);
});

test("trainSatc: every spatial variant trains, the visual head answers, predictSatc scores other items", async () => {
  const rng = new Random(1);
  const { global, patches, labels } = synthetic(rng, 240, 3, 6, 4, 8);
  for (const spatial of spatialVariants) {
    const events: string[] = [];
    const r = await trainSatc({ global, patches }, {
      clusters: 3, spatial, batchSize: 64, hidden: 32, maxEpochs: 20, topK: 10, graphK: 3, threads: 1, seed: 2,
      encoderHeads: 2, encoderHeadDim: 4, onProgress: (e) => events.push(e.stage),
    });
    assert.equal(r.predictions.length, 240);
    assert.deepEqual(r.model.views, spatial === "none" ? ["visual"] : ["visual", "spatial"]);
    assert.deepEqual(r.model.pairs, spatial === "none" ? [] : [["visual", "spatial"]]);
    assert.equal(r.model.encoder !== null, ["gat", "gcn", "transformer"].includes(spatial));
    assert.ok(events.includes("train"));
    if (spatial === "gat" || spatial === "gcn") assert.ok(events.includes("patch-graph"), spatial);
    const acc = evaluateClustering(labels, r.predictions).acc;
    assert.ok(acc > 0.9, `${spatial}: train ACC ${acc}`);
    const scored = await predictSatc(r.model, { data: global.data.subarray(0, 30 * 8), rows: 30, cols: 8 }, { threads: 1 });
    assert.deepEqual(Array.from(scored.predictions), Array.from(r.predictions.subarray(0, 30)));
    await releaseSatc(r.model);
  }
});

test("trainSatc: three views give the three pairs; missing patches or bad variant are usage errors", async () => {
  const rng = new Random(3);
  const { global, patches } = synthetic(rng, 120, 2, 4, 3, 5);
  const text: Matrix = { data: Float32Array.from({ length: 120 * 6 }, () => rng.normal()), rows: 120, cols: 6 };
  const r = await trainSatc({ global, patches, text }, { clusters: 2, spatial: "gcn", batchSize: 32, hidden: 16, maxEpochs: 2, topK: 5, graphK: 2, threads: 1 });
  assert.deepEqual(r.model.pairs, [["visual", "spatial"], ["visual", "text"], ["spatial", "text"]]);
  await releaseSatc(r.model);
  await assert.rejects(trainSatc({ global }, { clusters: 2, spatial: "gat" }), /needs patch nodes/);
  await assert.rejects(trainSatc({ global, patches }, { clusters: 2, spatial: "gnn" as never }), /--spatial/);
});

test("trainSatc restarts: keeps the restart with the lowest final loss, which is that seed's own training", async () => {
  const rng = new Random(5);
  // Hard enough (noise 0.6 around 4 centres, few epochs) that restarts end at different losses.
  const { global, patches } = synthetic(rng, 200, 4, 4, 3, 6);
  const base = { clusters: 4, batchSize: 50, hidden: 16, maxEpochs: 3, topK: 8, graphK: 2, threads: 1, encoderHeads: 2, encoderHeadDim: 3 } as const;
  for (const spatial of ["none", "gat"] as const) {
    const r = await trainSatc({ global, patches }, { ...base, spatial, seed: 4, restarts: 3 });
    assert.equal(r.restarts.length, 3);
    assert.deepEqual(r.restarts.map((x) => x.seed), [4, restartSeed(4, 1), restartSeed(4, 2)]);
    const losses = r.restarts.map((x) => x.loss);
    assert.equal(new Set(losses).size, 3, `restarts should differ: ${losses}`);
    assert.equal(r.restarts[r.kept].loss, Math.min(...losses));
    assert.equal(r.history[r.history.length - 1].loss, Math.min(...losses));
    // The kept restart alone, trained from its seed, gives the same clustering (neighbours are mined
    // once for all restarts, and mining is deterministic).
    const alone = await trainSatc({ global, patches }, { ...base, spatial, seed: r.restarts[r.kept].seed });
    assert.deepEqual(Array.from(alone.predictions), Array.from(r.predictions));
    assert.equal(alone.history[alone.history.length - 1].loss, r.restarts[r.kept].loss);
    await releaseSatc(r.model);
    await releaseSatc(alone.model);
  }
  await assert.rejects(trainSatc({ global, patches }, { ...base, spatial: "none", restarts: 0 }), /restarts/);
});
