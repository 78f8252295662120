/**
 * Epoch time of SATC's training with a spatial encoder on Fashion-MNIST-sized random data, the
 * shapes of bench/spatial_torch.py (60,000 items, visual 784-d, 49 nodes x 16 channels, graph
 * k = 8, GAT 4 heads x 32, heads 512 hidden, K = 10, batch 512, random top-50 neighbours).
 *
 *   node dist/bench/spatial_epoch.js [--n 60000] [--epochs 1] [--threads 2] [--kind gat] [--heads 4] [--head-dim 32] [--hidden 512]
 *
 * --hidden is the heads' width; 512 as the PyTorch side (satc's own default is the visual input's
 * width, 784 here, which is more work per step).
 *
 * Compare with: /usr/bin/python3 bench/spatial_torch.py --threads 2 (same shapes, ms/step and s/epoch).
 */
import { loadavg } from "node:os";
import { Random } from "../src/util/random.js";
import { normalizeRows } from "../src/util/matrix.js";
import { trainSatc, releaseSatc, type SpatialVariant } from "../src/spatial/method.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", "60000")), epochs = Number(opt("epochs", "1")), threads = Number(opt("threads", "2"));
const kind = opt("kind", "gat") as SpatialVariant;
const rng = new Random(0);
const global = normalizeRows({ data: Float32Array.from({ length: n * 784 }, () => rng.normal()), rows: n, cols: 784 });
const patches = { data: Float32Array.from({ length: n * 49 * 16 }, () => rng.normal()), shape: [n, 49, 16] as [number, number, number] };
const visual = Int32Array.from({ length: n * 50 }, () => rng.int(n));
const spatial = Int32Array.from({ length: n * 50 }, () => rng.int(n));
const load0 = loadavg()[0];
let graphSeconds = 0;
const t0 = performance.now();
const r = await trainSatc({ global, patches, neighbors: { visual, spatial } }, {
  clusters: 10, spatial: kind, maxEpochs: epochs, threads, hidden: Number(opt("hidden", "512")), encoderHeads: Number(opt("heads", "4")), encoderHeadDim: Number(opt("head-dim", "32")),
  onProgress: (e) => {
    if (e.stage === "patch-graph" && e.done === e.total) graphSeconds = (performance.now() - t0) / 1000;
    if (e.stage === "train") console.error(`epoch ${e.epoch}: ${e.seconds.toFixed(1)} s (load ${loadavg()[0].toFixed(1)})`);
  },
});
await releaseSatc(r.model);
const perEpoch = r.history.reduce((a, h) => a + h.seconds, 0) / r.history.length;
const steps = Math.floor(n / 512);
console.log(`satc ${kind}, n ${n}, threads ${threads}: ${perEpoch.toFixed(1)} s/epoch (${((perEpoch / steps) * 1000).toFixed(1)} ms/step, ${steps} steps); patch graph ${graphSeconds.toFixed(1)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);
