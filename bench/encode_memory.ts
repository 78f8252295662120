/**
 * Resident memory while encoding many images: the streaming path stays flat.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/encode_memory.js [--n 10000] [--encoder resnet50|clip] [--batch 32]
 *
 * Encodes n benchmark JPEGs (bench/encode_images.ts: 256x256, written once) from an image folder
 * with `encodeFeatures(dataset, encoder, { modelDir })`, the path `satc encode` takes: encodeDataset
 * decodes batch by batch (the next batch while the model runs) and streams each batch's rows to a
 * .npy file. Encoders: "resnet50" is the global view (the 7x7x2048 map averaged over cells, unit
 * rows: n x 2048 floats on disk; the (n, 49, 2048) patch output would be 4 GB at n = 10,000) and
 * "clip" the image_embeds (n x 512). Models are bench/export_models.py's full-size random-weight
 * exports, offline through --model-dir.
 *
 * After every batch it records rss and the peak so far (process.resourceUsage().maxRSS), and prints
 * the curve at every 10% with the 1-minute load average. encodeFeatures returns the whole (n, d)
 * matrix at the end (it reads the finished .npy once): that last step is reported separately, as
 * "after return", and is n * d * 4 bytes (80 MB for 10,000 x 2048).
 * JSON: bench/out/encode-memory-<encoder>-<n>.json.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { openImageFolder } from "../src/input/folder.js";
import { encodeFeatures } from "../src/encoders/index.js";
import { BENCH_OUT, benchImages } from "./encode_images.js";
import { existsSync } from "node:fs";

const args = process.argv.slice(2);
const KNOWN = new Set(["--n", "--encoder", "--batch"]);
for (const a of args) if (a.startsWith("--") && !KNOWN.has(a)) throw new Error(`unknown option ${a}; expected one of ${[...KNOWN].join(", ")}`);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", "10000"));
const encoder = opt("encoder", "resnet50");
if (encoder !== "resnet50" && encoder !== "clip") throw new Error(`--encoder: expected resnet50 or clip, found ${encoder}`);
const batch = Number(opt("batch", "32"));
const MODEL_DIR = join(BENCH_OUT, "models");
if (!existsSync(join(MODEL_DIR, "Xenova"))) throw new Error(`no models in ${MODEL_DIR}: run /usr/bin/python3 bench/export_models.py first`);

const MB = 1024 * 1024;
const log = (s: string) => process.stderr.write(`${s}\n`);
const mem = () => {
  const m = process.memoryUsage();
  return { rssMB: m.rss / MB, peakRssMB: process.resourceUsage().maxRSS / 1024, heapUsedMB: m.heapUsed / MB, externalMB: m.external / MB, arrayBuffersMB: m.arrayBuffers / MB };
};

const dir = await benchImages(n, (d) => log(`${d}/${n} images written`));
const dataset = await openImageFolder(dir);
const atStart = mem();
log(`${n} images in ${dir}; encoder ${encoder}; rss at start ${atStart.rssMB.toFixed(0)} MB; load ${loadavg()[0].toFixed(2)}`);

const samples: ({ done: number; seconds: number; imagesPerSecond: number; load1: number } & ReturnType<typeof mem>)[] = [];
const t0 = performance.now();
let nextReport = 0;
const f = await encodeFeatures(dataset, encoder, { modelDir: MODEL_DIR, cacheDir: join(BENCH_OUT, "cache"), batchSize: batch }, {
  cacheDir: false,
  onProgress: (p) => {
    const s = { done: p.done, seconds: (performance.now() - t0) / 1000, imagesPerSecond: p.imagesPerSecond ?? 0, load1: loadavg()[0], ...mem() };
    samples.push(s);
    if (p.done >= nextReport || p.done === n) {
      log(`${String(p.done).padStart(6)}/${n}  rss ${s.rssMB.toFixed(0).padStart(5)} MB  peak ${s.peakRssMB.toFixed(0).padStart(5)} MB  heap ${s.heapUsedMB.toFixed(0).padStart(4)} MB  ${s.imagesPerSecond.toFixed(2)} img/s  load ${s.load1.toFixed(2)}`);
      nextReport = p.done + Math.ceil(n / 10);
    }
  },
});
const afterReturn = mem();
const streaming = samples.at(-1)!;
const first = samples[0];
// Flatness: peak rss over the second half of the run against the peak at the end of the first batch.
const half = samples.filter((s) => s.done <= n / 2);
const report = {
  command: `node dist/bench/encode_memory.js ${args.join(" ")}`.trim(),
  n,
  encoder: encoder === "resnet50" ? "resnet50 global (mean of the 7x7x2048 map, unit rows)" : "clip image_embeds (unit rows)",
  features: [f.global.rows, f.global.cols],
  batch,
  seconds: (performance.now() - t0) / 1000,
  atStartMB: atStart,
  afterFirstBatch: first,
  atHalf: half.at(-1),
  atEnd: streaming,
  peakRssWhileStreamingMB: streaming.peakRssMB,
  peakRssGrowthSecondHalfMB: streaming.peakRssMB - (half.at(-1)?.peakRssMB ?? first.peakRssMB),
  afterReturnMB: afterReturn,
  samples,
};
await writeFile(join(BENCH_OUT, `encode-memory-${encoder}-${n}.json`), JSON.stringify(report, null, 2));
console.log(
  `${encoder} ${n} images (${f.global.rows} x ${f.global.cols}): rss after first batch ${first.rssMB.toFixed(0)} MB, at ${half.at(-1)?.done} ${half.at(-1)?.rssMB.toFixed(0)} MB, at ${n} ${streaming.rssMB.toFixed(0)} MB; ` +
    `peak while streaming ${streaming.peakRssMB.toFixed(0)} MB (growth over the second half ${report.peakRssGrowthSecondHalfMB.toFixed(0)} MB); ` +
    `peak after returning the matrix ${afterReturn.peakRssMB.toFixed(0)} MB; ${report.seconds.toFixed(0)} s, load ${loadavg()[0].toFixed(2)}`,
);
