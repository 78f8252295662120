/**
 * Effect of the channel reduction on what the spatial view uses, on synthetic ResNet-like nodes
 * (2048 channels: 40 shared directions with decaying scales, per-image and per-node parts, noise;
 * all positive after a ReLU as a ResNet map): fraction of patch-graph edges (k = 8) kept, overlap of
 * the top-10 image neighbours on the pooled nodes, cosine agreement, time, memory per image.
 *
 *   node dist/bench/spatial_reduce.js [--images 300] [--dims 16,32,64,128]
 *
 * On real ResNet-50 features: run the same comparisons on stored features (not available on this machine).
 */
import { loadavg } from "node:os";
import { Random } from "../src/util/random.js";
import { buildPatchGraph, type PatchNodes } from "../src/spatial/graph.js";
import { applyChannelReduction, fitChannelReduction } from "../src/spatial/reduce.js";
import { poolNodes } from "../src/spatial/method.js";
import { mineNeighbors } from "../src/clustering/neighbors.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("images", "300")), N = 49, c = 2048, rank = 40;
const dims = opt("dims", "16,32,64,128").split(",").map(Number);
const rng = new Random(0);
const dirs = Array.from({ length: rank }, () => Float32Array.from({ length: c }, () => rng.normal()));
const data = new Float32Array(n * N * c);
for (let i = 0; i < n; i++) {
  const img = Array.from({ length: rank }, (_, r) => rng.normal() * 3 / (1 + r / 5));
  for (let u = 0; u < N; u++) {
    const coef = img.map((a, r) => a + rng.normal() / (1 + r / 5));
    const o = (i * N + u) * c;
    for (let j = 0; j < c; j++) {
      let v = 0.5 * rng.normal();
      for (let r = 0; r < rank; r++) v += coef[r] * dirs[r][j] * 0.2;
      data[o + j] = Math.max(0, v);
    }
  }
}
const nodes: PatchNodes = { data, shape: [n, N, c] };
const fullGraph = await buildPatchGraph(nodes, { k: 8 });
const fullNb = await mineNeighbors(poolNodes(nodes), 10);
console.log(`synthetic nodes ${n} x ${N} x ${c} (${(N * c * 4 / 1024).toFixed(0)} KiB/image); load ${loadavg()[0].toFixed(1)}`);
console.log("method      d_r  KiB/img  fit s  graph edges kept  image top-10 kept  explained var");
for (const method of ["pca", "projection"] as const) {
  for (const d of dims) {
    const t0 = performance.now();
    const r = await fitChannelReduction(nodes, { channels: d, method });
    const fit = (performance.now() - t0) / 1000;
    const reduced = await applyChannelReduction(nodes, r);
    const g = await buildPatchGraph(reduced, { k: 8 });
    let kept = 0;
    for (let row = 0; row < n * N; row++) {
      const a = new Set(fullGraph.neighbors.subarray(row * 9 + 1, row * 9 + 9));
      for (const v of g.neighbors.subarray(row * 9 + 1, row * 9 + 9)) if (a.has(v)) kept++;
    }
    const nb = await mineNeighbors(poolNodes(reduced), 10);
    let nbKept = 0;
    for (let i = 0; i < n; i++) {
      const a = new Set(fullNb.subarray(i * 10, i * 10 + 10));
      for (const v of nb.subarray(i * 10, i * 10 + 10)) if (a.has(v)) nbKept++;
    }
    const explained = r.variance ? (r.variance.reduce((a, b) => a + b, 0) / r.totalVariance!).toFixed(3) : "-";
    console.log(`${method.padEnd(10)} ${String(d).padStart(4)}  ${(N * d * 4 / 1024).toFixed(1).padStart(7)}  ${fit.toFixed(2).padStart(5)}  ${(kept / (n * N * 8)).toFixed(3).padStart(16)}  ${(nbKept / (n * 10)).toFixed(3).padStart(17)}  ${explained.padStart(13)}`);
  }
}
