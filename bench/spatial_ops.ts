/**
 * Time of one spatial-encoder step on Fashion-MNIST shapes (2B = 1024 images, 49 nodes, 16
 * channels): gather + masks, forward session, training session (recompute + backward + Adam).
 *
 *   node dist/bench/spatial_ops.js [--kind gat] [--batch 1024] [--heads 4] [--head-dim 32] [--threads 2] [--reps 5]
 */
import { loadavg } from "node:os";
import { Random } from "../src/util/random.js";
import { buildPatchGraph } from "../src/spatial/graph.js";
import { SpatialEncoder, type SpatialEncoderName } from "../src/spatial/encoders.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const kind = opt("kind", "gat") as SpatialEncoderName;
const batch = Number(opt("batch", "1024")), reps = Number(opt("reps", "5")), threads = Number(opt("threads", "2"));
const n = 4096, N = Number(opt("nodes", "49")), c = Number(opt("channels", "16"));
const rng = new Random(0);
const nodes = { data: Float32Array.from({ length: n * N * c }, () => rng.normal()), shape: [n, N, c] as [number, number, number] };
const graph = await buildPatchGraph(nodes, { k: 8, threads });
const enc = await SpatialEncoder.create(kind, nodes, graph, rng, { heads: Number(opt("heads", "4")), headDim: Number(opt("head-dim", "32")), threads });
const idx = Int32Array.from({ length: batch }, () => rng.int(n));
const grad = { data: Float32Array.from({ length: batch * enc.outDim }, () => rng.normal() * 1e-3), rows: batch, cols: enc.outDim };
let tf = 0, tb = 0;
for (let r = 0; r < reps + 1; r++) {
  const t0 = performance.now();
  await enc.forward(idx, "train");
  const t1 = performance.now();
  await enc.backward(grad);
  const t2 = performance.now();
  if (r > 0) { tf += t1 - t0; tb += t2 - t1; }
}
console.log(`${kind} batch ${batch} N ${N} c ${c}: forward ${(tf / reps).toFixed(1)} ms, train graph ${(tb / reps).toFixed(1)} ms per step (threads ${threads}, load ${loadavg()[0].toFixed(1)})`);
await enc.release();
