/**
 * Encoder throughput: satc (ONNX Runtime through onnxruntime-node / transformers.js) against
 * PyTorch CPU, full-size ResNet-50 and CLIP ViT-B/32 vision towers with random weights, on the
 * same images, in one run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/encode.js [--n 256] [--batch 32] [--models resnet50,clip]
 *       [--threads <all cores>] [--torch-threads <same as --threads>] [--no-python] [--json]
 *
 * Steps (each skipped when already done):
 * 1. bench/export_models.py (/usr/bin/python3) exports torchvision resnet50 and vit_b_32 (seeded
 *    random weights) into bench/out/models/Xenova/{resnet-50,clip-vit-base-patch32} in the hub layout.
 * 2. bench/encode_images.ts writes n 256x256 JPEGs (coloured, upsampled Fashion-MNIST test images).
 * 3. Per model, satc then PyTorch (never at the same time):
 *    - satc forward: Resnet50Encoder / ClipEncoder loaded offline with --model-dir, all cores; batches
 *      of preprocessed (B,3,224,224) tensors through encodePixelValues (ResNet: the edited graph up
 *      to the (B,2048,7,7) map, returned as (B,49,2048); CLIP: image_embeds (B,512)).
 *    - satc end to end: `encodeFeatures(openImageFolder(dir), "resnet50"|"clip", { modelDir })`, the
 *      path `satc encode` takes (decode with sharp, Pillow-exact preprocessing, forward, streaming
 *      to .npy); timed from its first progress event (after batch 1) to its last, so model loading
 *      and the warm-up batch are left out on both sides.
 *    - PyTorch: bench/encode_torch.py, the same weights, torchvision preprocessing, eval + no_grad,
 *      torch.set_num_threads(--torch-threads), OMP_NUM_THREADS and OPENBLAS_NUM_THREADS likewise
 *      (Debian's torch does its GEMMs in OpenBLAS). Its end-to-end features are compared with satc's
 *      (cosine per image), which checks that both ran the same model on the same pixels.
 *    Every figure carries the 1-minute load average before and after it, and images per CPU second
 *    (process CPU time over the same span, every thread), which other processes on a shared machine
 *    disturb far less than images per wall-clock second.
 * Results: a table on stdout and bench/out/encode-<time>.json (plus encode-latest.json).
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { RawImage } from "../src/input/dataset.js";
import { openImageFolder } from "../src/input/folder.js";
import { encodeFeatures } from "../src/encoders/index.js";
import { ClipEncoder } from "../src/encoders/clip.js";
import { Resnet50Encoder } from "../src/encoders/resnet50.js";
import { preprocessBatch } from "../src/encoders/preprocess.js";
import { encodeNpy, readNpy } from "../src/features/npy.js";
import type { ModelRecord } from "../src/run/record.js";
import { BENCH_OUT, REPO_ROOT, benchImages } from "./encode_images.js";

type ModelName = "resnet50" | "clip";

const args = process.argv.slice(2);
const KNOWN = new Set(["--n", "--batch", "--models", "--threads", "--torch-threads", "--no-python", "--json"]);
for (const a of args) if (a.startsWith("--") && !KNOWN.has(a)) throw new Error(`unknown option ${a}; expected one of ${[...KNOWN].join(", ")}`);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", "256"));
const batch = Number(opt("batch", "32"));
const threads = Number(opt("threads", String(availableParallelism())));
// Same thread budget on both sides by default (2 on the 2-core development machines).
const torchThreads = Number(opt("torch-threads", String(threads)));
const models = opt("models", "resnet50,clip").split(",") as ModelName[];
const withPython = !args.includes("--no-python");
// Each side times the batches after its first (warm-up) one, so at least two are needed.
if (!Number.isInteger(n) || !Number.isInteger(batch) || batch < 1 || n < 2 * batch) throw new Error(`--n ${n} --batch ${batch}: expected integers with n >= 2 * batch`);
const PYTHON = "/usr/bin/python3";
const MODEL_DIR = join(BENCH_OUT, "models");
const CACHE_DIR = join(BENCH_OUT, "cache");

const ORT_VERSION = (JSON.parse(await readFile(join(REPO_ROOT, "node_modules/onnxruntime-node/package.json"), "utf8")) as { version: string }).version;

/** CPU seconds (user + system, every thread) of this process since `from`. */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

const load1 = () => Math.round(loadavg()[0] * 100) / 100;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Timing {
  /** Seconds timed (after the warm-up batch). */
  seconds: number;
  imagesPerSecond: number;
  /** 1-minute load average before and after. */
  load1: [number, number];
  /** CPU seconds of the whole process (all threads) over the timed part. */
  cpuSeconds: number;
  /** Images per CPU second: less sensitive to other processes than images/s on a shared machine. */
  imagesPerCpuSecond: number;
  wholeRunImagesPerSecond?: number;
  wallSecondsWithLoad?: number;
}

interface Side {
  framework: string;
  loadSeconds: number;
  forward: Timing;
  endToEnd: Timing;
}

async function ensureModels(): Promise<void> {
  const need = [join(MODEL_DIR, "Xenova/resnet-50/onnx/model.onnx"), join(MODEL_DIR, "Xenova/clip-vit-base-patch32/onnx/vision_model.onnx")];
  if (need.every((p) => existsSync(p))) return;
  log("exporting the models (bench/export_models.py) ...");
  execFileSync(PYTHON, [join(REPO_ROOT, "bench/export_models.py"), "--out", MODEL_DIR], { stdio: ["ignore", "ignore", "inherit"] });
}

async function satcForward(model: ModelName, images: RawImage[]): Promise<{ loadSeconds: number; forward: Timing; models: ModelRecord[] }> {
  const t0 = performance.now();
  const batches: { data: Float32Array; dims: number[] }[] = [];
  let run: (b: { data: Float32Array; dims: number[] }) => Promise<unknown>;
  let dispose: () => Promise<void>;
  let loadSeconds: number;
  let records: ModelRecord[];
  if (model === "resnet50") {
    const enc = await Resnet50Encoder.load({ modelDir: MODEL_DIR, cacheDir: CACHE_DIR, threads });
    loadSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < images.length; i += batch) batches.push(preprocessBatch(images.slice(i, i + batch), enc.preprocess));
    run = (b) => enc.encodePixelValues(b.data, b.dims);
    dispose = () => enc.dispose();
    records = await enc.records();
  } else {
    const enc = await ClipEncoder.load({ modelDir: MODEL_DIR, cacheDir: CACHE_DIR, threads, parts: ["vision"] });
    loadSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < images.length; i += batch) batches.push(enc.pixelValues(images.slice(i, i + batch)));
    run = (b) => enc.encodePixelValues(b.data, b.dims);
    dispose = () => enc.dispose();
    records = await enc.records();
  }
  await run(batches[0]);
  const before = load1();
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (const b of batches) await run(b);
  const seconds = (performance.now() - t1) / 1000;
  const cpuSeconds = cpuSince(c1);
  await dispose();
  const forward = { seconds, imagesPerSecond: images.length / seconds, load1: [before, load1()] as [number, number], cpuSeconds, imagesPerCpuSecond: images.length / cpuSeconds };
  return { loadSeconds, forward, models: records };
}

async function satcEndToEnd(model: ModelName, dir: string): Promise<{ timing: Timing; featuresPath: string }> {
  const dataset = await openImageFolder(dir);
  const featuresPath = join(BENCH_OUT, `encode-satc-${model}-${n}.npy`);
  // The first progress event comes after the first batch is encoded and written: the rate is taken
  // from there to the last, which leaves out model loading and the first (warm-up) batch, as the
  // PyTorch side leaves out its warm-up batch. encodeDataset's own whole-run rate goes into the JSON.
  const events: { done: number; at: number; cpu: NodeJS.CpuUsage; imagesPerSecond?: number }[] = [];
  let before = 0;
  const t0 = performance.now();
  const f = await encodeFeatures(dataset, model, { modelDir: MODEL_DIR, cacheDir: CACHE_DIR, batchSize: batch }, {
    cacheDir: false,
    onProgress: (p) => {
      if (events.length === 0) before = load1();
      events.push({ done: p.done, at: performance.now(), cpu: process.cpuUsage(), imagesPerSecond: p.imagesPerSecond });
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const first = events[0];
  const last = events.at(-1);
  if (first === undefined || last === undefined || last.done !== n || last.done === first.done) throw new Error(`satc ${model}: progress ended at ${last?.done} of ${n}`);
  const seconds = (last.at - first.at) / 1000;
  const rate = (last.done - first.done) / seconds;
  const cpuSeconds = (last.cpu.user + last.cpu.system - first.cpu.user - first.cpu.system) / 1e6;
  await writeFile(featuresPath, encodeNpy(f.global.data, [f.global.rows, f.global.cols]));
  log(`  satc ${model} end to end: ${rate.toFixed(2)} images/s after the first batch; encodeDataset's whole-run rate ${last.imagesPerSecond?.toFixed(2)}; ${wall.toFixed(1)} s with model load`);
  return { timing: { seconds, imagesPerSecond: rate, load1: [before, load1()], cpuSeconds, imagesPerCpuSecond: (last.done - first.done) / cpuSeconds, wholeRunImagesPerSecond: last.imagesPerSecond, wallSecondsWithLoad: wall }, featuresPath };
}

function torchSide(model: ModelName, dir: string): { side: Side; featuresPath: string } {
  const featuresPath = join(BENCH_OUT, `encode-torch-${model}-${n}.npy`);
  const before = load1();
  const out = execFileSync(
    PYTHON,
    [join(REPO_ROOT, "bench/encode_torch.py"), "--model", model, "--images", dir, "--n", String(n), "--batch", String(batch), "--threads", String(torchThreads), "--features-out", featuresPath],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, OMP_NUM_THREADS: String(torchThreads), OPENBLAS_NUM_THREADS: String(torchThreads) } },
  );
  const after = load1();
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as {
    torch: string;
    load_s: number;
    forward: { seconds: number; images_per_s: number; cpu_seconds: number };
    end_to_end: { seconds: number; images_per_s: number; cpu_seconds: number };
  };
  return {
    side: {
      framework: `pytorch ${r.torch} (${torchThreads} thr)`,
      loadSeconds: r.load_s,
      // The Python script runs forward then end to end; the load average is taken around the whole script.
      forward: { seconds: r.forward.seconds, imagesPerSecond: r.forward.images_per_s, load1: [before, after], cpuSeconds: r.forward.cpu_seconds, imagesPerCpuSecond: n / r.forward.cpu_seconds },
      endToEnd: { seconds: r.end_to_end.seconds, imagesPerSecond: r.end_to_end.images_per_s, load1: [before, after], cpuSeconds: r.end_to_end.cpu_seconds, imagesPerCpuSecond: n / r.end_to_end.cpu_seconds },
    },
    featuresPath,
  };
}

/**
 * Per-row agreement of two (n, d) feature files: cosine, and cosine after subtracting the second
 * file's column means from both (random-weight networks map every image near one direction, so the
 * plain cosine is close to 1 for any two images; the centred one is not), and max |difference|.
 */
async function agreement(a: string, b: string): Promise<{ minCosine: number; minCentredCosine: number; meanCentredCosine: number; centredCosineOtherImage: number; maxAbsDiff: number }> {
  const x = await readNpy(a);
  const y = await readNpy(b);
  if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) throw new Error(`feature shapes differ: ${a} [${x.shape}] vs ${b} [${y.shape}]`);
  const [rows, d] = x.shape;
  const mean = new Float64Array(d);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) mean[j] += Number(y.data[i * d + j]) / rows;
  const cos = (i: number, k: number, centre: boolean) => {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let j = 0; j < d; j++) {
      const p = Number(x.data[i * d + j]) - (centre ? mean[j] : 0);
      const q = Number(y.data[k * d + j]) - (centre ? mean[j] : 0);
      xy += p * q;
      xx += p * p;
      yy += q * q;
    }
    return xy / Math.sqrt(xx * yy);
  };
  let min = Infinity;
  let minC = Infinity;
  let sumC = 0;
  let other = 0;
  let maxAbs = 0;
  for (let i = 0; i < rows; i++) {
    min = Math.min(min, cos(i, i, false));
    const c = cos(i, i, true);
    minC = Math.min(minC, c);
    sumC += c;
    other += cos(i, (i + 1) % rows, true) / rows;
    for (let j = 0; j < d; j++) maxAbs = Math.max(maxAbs, Math.abs(Number(x.data[i * d + j]) - Number(y.data[i * d + j])));
  }
  return { minCosine: min, minCentredCosine: minC, meanCentredCosine: sumC / rows, centredCosineOtherImage: other, maxAbsDiff: maxAbs };
}

const started = new Date();
await mkdir(BENCH_OUT, { recursive: true });
await ensureModels();
const dir = await benchImages(n);
const folder = await openImageFolder(dir);
const images = await Promise.all(folder.ids.map((_, i) => folder.loadImage(i)));
log(`${n} images in ${dir}; batch ${batch}; satc threads ${threads}, torch threads ${torchThreads}; load ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);

const results: Record<string, { models: ModelRecord[]; satc: Side; pytorch: Side | null; agreement: Awaited<ReturnType<typeof agreement>> | null }> = {};
for (const model of models) {
  log(`${model}: satc forward ...`);
  const fwd = await satcForward(model, images);
  log(`  ${fwd.forward.imagesPerSecond.toFixed(2)} images/s (load ${fwd.forward.load1.join(" -> ")})`);
  log(`${model}: satc end to end ...`);
  const e2e = await satcEndToEnd(model, dir);
  const satc: Side = { framework: `satc ORT ${ORT_VERSION} (${threads} thr)`, loadSeconds: fwd.loadSeconds, forward: fwd.forward, endToEnd: e2e.timing };
  let pytorch: Side | null = null;
  let agree = null;
  if (withPython) {
    log(`${model}: pytorch ...`);
    const t = torchSide(model, dir);
    pytorch = t.side;
    agree = await agreement(e2e.featuresPath, t.featuresPath);
    log(`  forward ${pytorch.forward.imagesPerSecond.toFixed(2)}, end to end ${pytorch.endToEnd.imagesPerSecond.toFixed(2)} images/s; centred min cosine satc vs torch ${agree.minCentredCosine.toFixed(6)}`);
  }
  results[model] = { models: fwd.models, satc, pytorch, agreement: agree };
  await rm(e2e.featuresPath, { force: true });
}

const fmt = (v: number) => v.toFixed(2).padStart(7);
const loads = (t: Timing) => t.load1.map((v) => v.toFixed(1)).join("->").padEnd(9);
const lines = [
  `                                     forward only                  end to end`,
  `model     framework                 img/s  img/cpu-s load1      img/s  img/cpu-s load1      load s`,
];
for (const [model, r] of Object.entries(results)) {
  for (const s of [r.satc, r.pytorch]) {
    if (s === null) continue;
    const f = s.forward;
    const e = s.endToEnd;
    lines.push(
      `${model.padEnd(9)} ${s.framework.padEnd(24)}${fmt(f.imagesPerSecond)} ${fmt(f.imagesPerCpuSecond)}   ${loads(f)}${fmt(e.imagesPerSecond)} ${fmt(e.imagesPerCpuSecond)}   ${loads(e)}${s.loadSeconds.toFixed(1).padStart(5)}`,
    );
  }
  if (r.pytorch) {
    const p = r.pytorch;
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(7);
    lines.push(
      `${model.padEnd(9)} ${"satc / pytorch".padEnd(24)}${x(r.satc.forward.imagesPerSecond, p.forward.imagesPerSecond)} ${x(r.satc.forward.imagesPerCpuSecond, p.forward.imagesPerCpuSecond)}   ${"".padEnd(9)}${x(r.satc.endToEnd.imagesPerSecond, p.endToEnd.imagesPerSecond)} ${x(r.satc.endToEnd.imagesPerCpuSecond, p.endToEnd.imagesPerCpuSecond)}`,
    );
  }
  if (r.agreement) {
    const g = r.agreement;
    lines.push(
      `${model.padEnd(9)} same image, satc vs pytorch: min cosine ${g.minCosine.toFixed(6)}, centred min ${g.minCentredCosine.toFixed(6)} ` +
        `(next image: ${g.centredCosineOtherImage.toFixed(3)}), max |diff| ${g.maxAbsDiff.toExponential(2)}`,
    );
  }
}
const report = {
  started: started.toISOString(),
  command: `node dist/bench/encode.js ${args.join(" ")}`.trim(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtEnd: loadavg() },
  n,
  batch,
  threads,
  torchThreads,
  images: dir,
  results,
};
const stamp = started.toISOString().replace(/[:.]/g, "-");
await writeFile(join(BENCH_OUT, `encode-${stamp}.json`), JSON.stringify(report, null, 2));
await writeFile(join(BENCH_OUT, "encode-latest.json"), JSON.stringify(report, null, 2));
if (args.includes("--json")) console.log(JSON.stringify(report, null, 2));
else console.log(lines.join("\n"));
log(`wrote ${join(BENCH_OUT, `encode-${stamp}.json`)}`);
