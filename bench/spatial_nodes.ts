/**
 * ResNet-50 spatial nodes at scale: time and resident memory of resnetSpatialNodes (fit the PCA on
 * a sample of images, then stream every image through ResNet-50 and reduce each batch).
 *
 *   /usr/bin/python3 bench/export_models.py            # full-size random-weight ResNet-50 (no download)
 *   npx tsc -p tsconfig.json && node dist/bench/spatial_nodes.js [--n 1000] [--sample 200] [--channels 64] [--batch 32] [--model-dir bench/out/models]
 *
 * Images: bench/encode_images.ts's 256x256 JPEGs. No feature store (cacheDir false): every run
 * encodes. Peak RSS is process.resourceUsage().maxRSS after the sample pass, at half of the
 * streaming pass and at the end, against what the unreduced (n, 49, 2048) float32 map would take.
 * Random weights: the timings and memory hold for the real model (same graph and shapes); the
 * explained variance does not. JSON: bench/out/spatial-nodes-<n>.json.
 */
import { writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { openImageFolder } from "../src/input/folder.js";
import { resnetSpatialNodes } from "../src/encoders/index.js";
import { BENCH_OUT, benchImages } from "./encode_images.js";

const args = process.argv.slice(2);
const KNOWN = new Set(["--n", "--sample", "--channels", "--batch", "--model-dir"]);
for (const a of args) if (a.startsWith("--") && !KNOWN.has(a)) throw new Error(`unknown option ${a}; expected one of ${[...KNOWN].join(", ")}`);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", "1000"));
const sample = Number(opt("sample", "200"));
const channels = Number(opt("channels", "64"));
const batch = Number(opt("batch", "32"));
const modelDir = resolve(opt("model-dir", join(BENCH_OUT, "models")));
if (!existsSync(join(modelDir, "Xenova", "resnet-50"))) throw new Error(`no Xenova/resnet-50 in ${modelDir}: run /usr/bin/python3 bench/export_models.py first`);

const MB = 1024 * 1024;
const log = (s: string) => process.stderr.write(`${s}\n`);
const peakMB = () => process.resourceUsage().maxRSS / 1024;
const dir = await benchImages(n, (d) => log(`${d}/${n} images written`));
const dataset = await openImageFolder(dir);
const atStart = { rssMB: process.memoryUsage().rss / MB, peakMB: peakMB() };
const marks: Record<string, { done: number; seconds: number; rssMB: number; peakMB: number; imagesPerSecond?: number; load1: number }> = {};
const t0 = performance.now();
let sampleEnd = 0;
const r = await resnetSpatialNodes(dataset, {
  model: { modelDir, cacheDir: join(BENCH_OUT, "cache"), batchSize: batch },
  reduce: { channels, sampleImages: sample },
  cacheDir: false,
  onProgress: (p) => {
    const m = { done: p.done, seconds: (performance.now() - t0) / 1000, rssMB: process.memoryUsage().rss / MB, peakMB: peakMB(), imagesPerSecond: p.imagesPerSecond, load1: loadavg()[0] };
    if (p.stage === "sample") { marks.sample = m; sampleEnd = p.done; }
    else if (p.done - sampleEnd <= n / 2) marks.half = m;
    else marks.end = m;
  },
});
const seconds = (performance.now() - t0) / 1000;
const report = {
  command: `node dist/bench/spatial_nodes.js ${args.join(" ")}`.trim(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtEnd: loadavg() },
  n, sample, channels, batch,
  nodes: r.nodes.shape,
  reduction: r.info.reduction,
  models: r.info.models,
  seconds,
  sampleSeconds: marks.sample?.seconds,
  streamImagesPerSecond: marks.end ? (n / (seconds - (marks.sample?.seconds ?? 0))) : null,
  atStart, marks,
  peakAfterReturnMB: peakMB(),
  reducedMB: (r.nodes.data.byteLength) / MB,
  unreducedWouldBeMB: (n * 49 * 2048 * 4) / MB,
};
await writeFile(join(BENCH_OUT, `spatial-nodes-${n}.json`), JSON.stringify(report, null, 2));
console.log(JSON.stringify({ ...report, marks: undefined, models: undefined }, null, 1));
console.log(JSON.stringify(marks));
