/**
 * Quality run of the heads on Fashion-MNIST, one view (the pixels baseline encoder):
 * fit on the 60,000 training images, score the 10,000 test images with predictWithHeads.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/train_fashion.js [--epochs 20] [--seed 0] [--center image|none] [--threads 2] [--hidden 512] [--single-view twin|self]
 *
 * Neighbours of the training split are cached in bench/out/ (git-ignored) keyed by the options.
 * Prints test ACC / NMI (arithmetic) / ARI, the epochs run and the timings.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openFashionMnist } from "../src/input/fashionMnist.js";
import { encodePixels } from "../src/encoders/pixels.js";
import { mineNeighbors } from "../src/clustering/neighbors.js";
import { predictWithHeads, trainHeads } from "../src/training/trainer.js";
import { evaluateClustering } from "../src/evaluation/metrics.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const epochs = Number(opt("epochs", "20"));
const seed = Number(opt("seed", "0"));
const center = opt("center", "image") as "image" | "none";
const threads = Number(opt("threads", "2"));
const patience = Number(opt("patience", "10"));
const hidden = Number(opt("hidden", "512"));
// twin: TAC's two-head loss with the one view fed to both heads (trainHeads' default); self: one head.
const singleView = opt("single-view", "twin") as "twin" | "self";

const t0 = performance.now();
const train = await openFashionMnist("train");
const test = await openFashionMnist("test");
const xTrain = (await encodePixels(train, { center })).global;
const xTest = (await encodePixels(test, { center })).global;
const tEncode = (performance.now() - t0) / 1000;

const outDir = fileURLToPath(new URL("../../bench/out/", import.meta.url));
mkdirSync(outDir, { recursive: true });
const cache = `${outDir}fashion-train-pixels-${center}-top50.i32`;
let t1 = performance.now();
let neighbors: Int32Array;
const cached = existsSync(cache);
if (cached) {
  const b = readFileSync(cache);
  neighbors = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
} else {
  neighbors = await mineNeighbors(xTrain, 50, { threads });
  writeFileSync(cache, Buffer.from(neighbors.buffer));
}
const tNeighbors = (performance.now() - t1) / 1000;

t1 = performance.now();
const result = await trainHeads([{ name: "visual", features: xTrain, neighbors }], {
  clusters: 10, seed, maxEpochs: epochs, patience, threads, hidden, singleView,
  onProgress: (e) => {
    if (e.stage === "train") console.error(`epoch ${e.epoch}/${e.maxEpochs} loss ${e.loss.toFixed(4)} (distill ${e.distill.toFixed(4)} consist ${e.consist.toFixed(4)} entropy ${e.entropy.toFixed(4)}) ${e.seconds.toFixed(1)} s`);
  },
});
const tTrain = (performance.now() - t1) / 1000;
const scored = await predictWithHeads(result.model, [{ name: "visual", features: xTest }], { threads });
const s = evaluateClustering(test.labels!, scored.predictions);
const sTrain = evaluateClustering(train.labels!, result.predictions);

console.log(`Fashion-MNIST, pixels encoder (center=${center}), one view${singleView === "twin" ? " fed to two heads (twin)" : ", one head (self)"}, heads (hidden ${hidden}, batch 512, K=10), seed ${seed}`);
console.log("split   ACC    NMI    ARI");
console.log(`test   ${s.acc.toFixed(3)}  ${s.nmi.toFixed(3)}  ${s.ari.toFixed(3)}`);
console.log(`train  ${sTrain.acc.toFixed(3)}  ${sTrain.nmi.toFixed(3)}  ${sTrain.ari.toFixed(3)}`);
console.log(`epochs ${result.epochs} (max ${epochs}); encode ${tEncode.toFixed(1)} s, neighbours ${tNeighbors.toFixed(1)} s${cached ? " (from cache)" : ""}, training ${tTrain.toFixed(1)} s (${(tTrain / result.epochs).toFixed(2)} s/epoch incl. final scoring)`);
