/**
 * The SATC method on Fashion-MNIST with the pixels encoder (global view + its 7x7 grid of 4x4
 * patches as the spatial nodes), text off: fit on the training split (or its first --n items),
 * score the 10,000 test images with the visual head. One line per (variant, seed), then a table
 * of mean ± std per variant, epoch times, peak RSS and the machine's load.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/spatial_fashion.js \
 *     [--n 60000] [--variants gat,none] [--seeds 3] [--epochs 200] [--patience 10] [--threads 2] \
 *     [--spatial-neighbors flat|pooled] [--no-positions] [--heads 4] [--head-dim 32] [--graph-k 8] [--restarts 1] [--center image|none] [--patches pixels|gradients] [--topk 50] [--hidden 512] [--first-seed 0] [--json out.json]
 *
 * Visual neighbours of the full training split are cached in bench/out/ (git-ignored).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { openFashionMnist } from "../src/input/fashionMnist.js";
import { encodePixels } from "../src/encoders/pixels.js";
import { mineNeighbors } from "../src/clustering/neighbors.js";
import { evaluateClustering } from "../src/evaluation/metrics.js";
import { poolNodes, predictSatc, releaseSatc, trainSatc, type SpatialVariant } from "../src/spatial/method.js";
import { predictWithHeads } from "../src/training/trainer.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", "60000"));
const variants = opt("variants", "gat,none").split(",") as SpatialVariant[];
const seeds = Number(opt("seeds", "1"));
const epochs = Number(opt("epochs", "200"));
const patience = Number(opt("patience", "10"));
const threads = Number(opt("threads", "2"));
const spatialNeighbors = opt("spatial-neighbors", "flat") as "flat" | "pooled";
const positions = !args.includes("--no-positions");
const restarts = Number(opt("restarts", "1"));
const topK = Number(opt("topk", "50"));
const hidden = Number(opt("hidden", "512"));
const firstSeed = Number(opt("first-seed", "0"));
const center = opt("center", "image") as "image" | "none";
const patchKind = opt("patches", "pixels") as "pixels" | "gradients";
const heads = Number(opt("heads", "4")), headDim = Number(opt("head-dim", "32")), graphK = Number(opt("graph-k", "8"));
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

const train = await openFashionMnist("train");
const test = await openFashionMnist("test");
const fTrain = await encodePixels(train, { center, patches: patchKind });
const fTest = await encodePixels(test, { center, patches: patchKind });
const d = fTrain.global.cols, [, N, c] = fTrain.patches.shape;
const global = { data: fTrain.global.data.subarray(0, n * d), rows: n, cols: d };
const patches = { data: fTrain.patches.data.subarray(0, n * N * c), shape: [n, N, c] as [number, number, number] };
const labels = train.labels!.subarray(0, n);

const outDir = fileURLToPath(new URL("../../bench/out/", import.meta.url));
mkdirSync(outDir, { recursive: true });
const cache = `${outDir}fashion-train-pixels-${center}-top50.i32`;
let visual: Int32Array;
if (n === 60000 && existsSync(cache)) {
  const b = readFileSync(cache);
  visual = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
} else {
  visual = await mineNeighbors(global, 50, { threads });
  if (n === 60000) writeFileSync(cache, Buffer.from(visual.buffer));
}
// Spatial neighbours, mined on the flat patch grid: for pixel cells that is the global vector with
// its coordinates permuted (same centring, no scaling that cosine sees), so they are the visual
// ones; gradient cells are another description and are mined (and cached) on their own.
let spatialFlat = visual;
if (patchKind === "gradients" && spatialNeighbors === "flat") {
  const gradCache = `${outDir}fashion-train-pixels-gradients-top50.i32`;
  if (n === 60000 && existsSync(gradCache)) {
    const b = readFileSync(gradCache);
    spatialFlat = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
  } else {
    spatialFlat = await mineNeighbors({ data: patches.data, rows: n, cols: N * c }, 50, { threads });
    if (n === 60000) writeFileSync(gradCache, Buffer.from(spatialFlat.buffer));
  }
}
// The first topK of each row of the top-50 (most similar first) are the top-topK.
const cutTo = (x: Int32Array) => {
  if (topK >= 50) return x;
  const cut = new Int32Array(n * topK);
  for (let i = 0; i < n; i++) cut.set(x.subarray(i * 50, i * 50 + topK), i * topK);
  return cut;
};
visual = cutTo(visual);
spatialFlat = cutTo(spatialFlat);

console.log(`Fashion-MNIST pixels, train n=${n}, test 10000, K=10, epochs<=${epochs}, patience ${patience}, threads ${threads}, spatial neighbours ${spatialNeighbors}, positions ${positions}, center ${center}, patches ${patchKind}, restarts ${restarts}, top-k ${topK}, hidden ${hidden}, heads ${heads}x${headDim}, graph k ${graphK}; load at start ${load()}`);
interface Row { variant: string; seed: number; acc: number; nmi: number; ari: number; trainAcc: number; epochs: number; epochSeconds: number; seconds: number; load: string }
const rows: Row[] = [];
for (const variant of variants) {
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const t0 = performance.now();
    const neighbors = spatialNeighbors === "flat" ? { visual, spatial: spatialFlat } : { visual };
    const r = await trainSatc({ global, patches, neighbors }, {
      clusters: 10, seed, spatial: variant, maxEpochs: epochs, patience, threads, spatialNeighbors, positions,
      encoderHeads: heads, encoderHeadDim: headDim, graphK, restarts, topK, hidden,
      onProgress: (e) => {
        if (e.stage === "train" && (e.epoch <= 2 || e.epoch % 10 === 0)) console.error(`  ${variant} seed ${seed}${e.restarts ? ` restart ${e.restart! + 1}/${e.restarts}` : ""} epoch ${e.epoch} loss ${e.loss.toFixed(4)} ${e.seconds.toFixed(1)} s (load ${load()})`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (restarts > 1) console.log(`  restarts (seed: final loss): ${r.restarts.map((x, i) => `${x.seed}: ${x.loss.toFixed(4)}${i === r.kept ? " kept" : ""}`).join(", ")}`);
    const scored = await predictSatc(r.model, fTest.global, { threads });
    const s = evaluateClustering(test.labels!, scored.predictions);
    const trainAcc = evaluateClustering(labels, r.predictions).acc;
    // The spatial head's own clustering of the training items (how much the spatial view learned).
    let spatialAcc = NaN;
    if (r.model.views.includes("spatial")) {
      const spatialView = { name: "spatial", features: r.model.encoder ? { data: new Float32Array(0), rows: n, cols: 0 } : poolNodes(patches), encoder: r.model.encoder ?? undefined };
      const sp = await predictWithHeads({ ...r.model.heads, predictView: "spatial" }, [spatialView], { threads });
      spatialAcc = evaluateClustering(labels, sp.predictions).acc;
    }
    await releaseSatc(r.model);
    const epochSeconds = r.history.reduce((a, h) => a + h.seconds, 0) / r.history.length;
    const row = { variant, seed, acc: s.acc, nmi: s.nmi, ari: s.ari, trainAcc, epochs: r.epochs, epochSeconds, seconds, load: load() };
    rows.push(row);
    console.log(`${variant.padEnd(12)} seed ${seed}: test ACC ${s.acc.toFixed(4)} NMI ${s.nmi.toFixed(4)} ARI ${s.ari.toFixed(4)} (train ACC ${trainAcc.toFixed(4)}, spatial head ${spatialAcc.toFixed(4)}), final loss ${r.history[r.history.length - 1].loss.toFixed(4)}, ${r.epochs} epochs, ${epochSeconds.toFixed(2)} s/epoch, ${seconds.toFixed(0)} s, load ${row.load}`);
  }
}
const stat = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${m.toFixed(4)} ± ${sd.toFixed(4)}`;
};
console.log("\nvariant       test ACC           test NMI           test ARI           s/epoch  epochs");
for (const variant of variants) {
  const rs = rows.filter((r) => r.variant === variant);
  console.log(`${variant.padEnd(12)}  ${stat(rs.map((r) => r.acc))}  ${stat(rs.map((r) => r.nmi))}  ${stat(rs.map((r) => r.ari))}  ${(rs.reduce((a, r) => a + r.epochSeconds, 0) / rs.length).toFixed(2).padStart(7)}  ${rs.map((r) => r.epochs).join(",")}`);
}
const rssMiB = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS ${rssMiB.toFixed(0)} MiB; load at end ${load()}`);
const json = opt("json", "");
if (json) writeFileSync(json, JSON.stringify({ n, variants, seeds, epochs, patience, threads, spatialNeighbors, positions, heads, headDim, graphK, rows, peakRssMiB: rssMiB }, null, 2));
