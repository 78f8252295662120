/**
 * k-means benchmark: satc (Euclidean and spherical) vs scikit-learn KMeans and faiss.Kmeans on the
 * Fashion-MNIST test pixels (10,000 x 784, values / 255), K=10, 10 restarts, in one run.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kmeans.js [--threads 2] [--repeats 1] [--no-python] [--json]
 *
 * The Python side is bench/kmeans_reference.py under /usr/bin/python3, run with OPENBLAS_CORETYPE
 * and OPENBLAS_L2_SIZE unset. Every run's centres come back here and are scored by one code path:
 * inertia in float64 on the full data (spherical runs: unit rows against unit centres, i.e. the
 * sum of 2 - 2 cos), labels = nearest centre, ACC/NMI/ARI against the classes.
 * A second table gives satc's ACC for two pixel normalisations (raw / 255, and rows centred by the
 * dataset mean then L2-normalised), Euclidean and spherical, for the pixels encoder's choice.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { kmeans, type KMeansMetric, type KMeansOptions } from "../src/clustering/kmeans.js";
import { evaluateClustering } from "../src/evaluation/metrics.js";
import type { Matrix } from "../src/util/matrix.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const threads = opt("threads", 2);
const repeats = opt("repeats", 1);
const K = 10;
const RESTARTS = 10;

function findFashionMnist(file: string): string {
  try {
    const listed = execFileSync("dpkg", ["-L", "dataset-fashion-mnist"], { encoding: "utf8" }).split("\n");
    const hit = listed.find((p) => p.endsWith(`/${file}`));
    if (hit) return hit;
  } catch {
    // not a Debian machine, or the package is missing: fall through to the usual place
  }
  return `/usr/share/datasets/fashion-mnist/${file}`;
}

function readIdxGz(path: string): { dims: number[]; bytes: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const nd = buf[3];
  const dims = Array.from({ length: nd }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  return { dims, bytes: buf.subarray(4 + 4 * nd) };
}

const imagesPath = findFashionMnist("t10k-images-idx3-ubyte.gz");
const images = readIdxGz(imagesPath);
const labelsIdx = readIdxGz(findFashionMnist("t10k-labels-idx1-ubyte.gz"));
const n = images.dims[0];
const d = images.dims[1] * images.dims[2];
const raw: Matrix = { data: Float32Array.from(images.bytes, (v) => v / 255), rows: n, cols: d };
const classes = Int32Array.from(labelsIdx.bytes);

/** Unit rows (float64 math), for scoring spherical runs. */
function unitRows(m: Matrix): Float64Array {
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.data[i * m.cols + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[i * m.cols + j] * inv;
  }
  return out;
}

/** Nearest centre and inertia in float64, the same way for every library's centres. */
function score(x: ArrayLike<number>, rows: number, cols: number, centers: ArrayLike<number>, metric: KMeansMetric) {
  const k = centers.length / cols;
  const c = Float64Array.from(centers);
  if (metric === "cosine") {
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += c[a * cols + j] ** 2;
      for (let j = 0; j < cols; j++) c[a * cols + j] /= Math.sqrt(s);
    }
  }
  const labels = new Int32Array(rows);
  let inertia = 0;
  for (let i = 0; i < rows; i++) {
    let best = Infinity;
    let arg = 0;
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const t = x[i * cols + j] - c[a * cols + j];
        s += t * t;
      }
      if (s < best) {
        best = s;
        arg = a;
      }
    }
    labels[i] = arg;
    inertia += best;
  }
  const m = evaluateClustering(classes, labels);
  return { inertia, acc: m.acc, nmi: m.nmi, ari: m.ari };
}

interface Row {
  name: string;
  metric: KMeansMetric;
  settings: string;
  seconds: number;
  /** CPU seconds of the process during the fit, all threads (robust-ish to other load on the machine). */
  cpuSeconds: number;
  centers: ArrayLike<number>;
}

async function satc(name: string, x: Matrix, options: KMeansOptions, settings: string): Promise<Row & { iterations: number; warnings: number }> {
  let best = Infinity;
  let cpuSeconds = 0;
  let result = null;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    result = await kmeans(x, K, { ...options, threads });
    const wall = (performance.now() - t0) / 1000;
    if (wall < best) {
      best = wall;
      const c = process.cpuUsage(c0);
      cpuSeconds = (c.user + c.system) / 1e6;
    }
  }
  const total = result!.restarts.reduce((s, r) => s + r.iterations, 0);
  return {
    name, metric: options.metric ?? "euclidean", settings: `${settings} (${total} iterations in all)`, seconds: best, cpuSeconds, centers: result!.centers.data,
    iterations: total, warnings: result!.warnings.length,
  };
}

const loadBefore = loadavg();
// Warm-up: loads onnxruntime and builds the sessions once, as any second fit in a process would find.
const tWarm = performance.now();
await kmeans({ data: raw.data.subarray(0, 100 * d), rows: 100, cols: d }, K, { nInit: 1, threads });
const warmSeconds = (performance.now() - tWarm) / 1000;

const rows: Row[] = [];
rows.push(await satc("satc kmeans", raw, { metric: "euclidean", nInit: RESTARTS, seed: 0 }, `nInit=${RESTARTS}, k-means++, maxIter=300, tol=1e-4, full data`));
rows.push(await satc("satc kmeans spherical", raw, { metric: "cosine", nInit: RESTARTS, seed: 0 }, `nInit=${RESTARTS}, k-means++, maxIter=300, tol=1e-4, full data`));
rows.push(await satc("satc kmeans (25 it)", raw, { metric: "euclidean", nInit: RESTARTS, seed: 0, maxIter: 25, tol: 0 }, `nInit=${RESTARTS}, k-means++, maxIter=25, tol=0, full data`));
rows.push(await satc("satc spherical (25 it)", raw, { metric: "cosine", nInit: RESTARTS, seed: 0, maxIter: 25, tol: 0 }, `nInit=${RESTARTS}, k-means++, maxIter=25, tol=0, full data`));

let python: { versions: Record<string, string>; blas: unknown; env: unknown; runs: (Row & { library: string; reportedObjective: number })[] } | null = null;
if (!args.includes("--no-python")) {
  const script = fileURLToPath(new URL("../../bench/kmeans_reference.py", import.meta.url));
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const out = execFileSync("/usr/bin/python3", [script, imagesPath, "--threads", String(threads), "--repeats", String(repeats)], {
    encoding: "utf8",
    env,
    maxBuffer: 64 << 20,
  });
  python = JSON.parse(out);
  rows.push(...python!.runs);
}

const unit = unitRows(raw);
const scored = rows.map((r) => ({ ...r, ...score(r.metric === "cosine" ? unit : raw.data, n, d, r.centers, r.metric) }));

// Normalisation study for the pixels encoder: ACC of satc's k-means (defaults, 10 restarts).
const centred = new Float32Array(raw.data);
{
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += raw.data[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] -= mean[j];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += centred[i * d + j] ** 2;
    for (let j = 0; j < d; j++) centred[i * d + j] /= Math.sqrt(s);
  }
}
const study = [];
for (const [input, x] of [["pixels / 255", raw], ["centred + L2-normalised", { data: centred, rows: n, cols: d }]] as const) {
  for (const metric of ["euclidean", "cosine"] as const) {
    const r = await kmeans(x, K, { metric, nInit: RESTARTS, seed: 0, threads });
    const m = evaluateClustering(classes, r.labels);
    study.push({ input, metric, acc: m.acc, nmi: m.nmi, ari: m.ari, inertia: r.inertia });
  }
}

if (args.includes("--json")) {
  console.log(JSON.stringify({ threads, repeats, warmSeconds, loadBefore, loadAfter: loadavg(), python: python && { versions: python.versions, blas: python.blas, env: python.env }, runs: scored.map(({ centers, ...r }) => r), study }));
} else {
  const ref = scored.find((r) => r.name === "faiss (defaults)");
  const refSph = scored.find((r) => r.name === "faiss spherical (defaults)");
  console.log(`k-means on Fashion-MNIST test pixels (${n} x ${d}, /255), K=${K}, ${RESTARTS} restarts, ${threads} threads, best of ${repeats}`);
  console.log(`load average before / after: ${loadBefore.map((v) => v.toFixed(1)).join(" ")} / ${loadavg().map((v) => v.toFixed(1)).join(" ")} (machine shared with other jobs: wall times are noisy)`);
  console.log(`satc first-call overhead (onnxruntime load + sessions, excluded below): ${warmSeconds.toFixed(2)} s`);
  if (python) console.log(`python: ${JSON.stringify(python.versions)}; BLAS: ${JSON.stringify(python.blas)}; env: ${JSON.stringify(python.env)}`);
  console.log("inertia: float64 on the full data, same code for every run (spherical: unit rows vs unit centres, sum of 2-2cos)");
  console.log(["run".padEnd(36), "seconds".padStart(8), "cpu s".padStart(7), "inertia".padStart(14), "t/faiss".padStart(8), "I/faiss".padStart(8), "ACC".padStart(6), "NMI".padStart(6), "ARI".padStart(6), "  settings"].join(" "));
  for (const r of scored) {
    const base = r.metric === "cosine" ? refSph : ref;
    console.log([
      r.name.padEnd(36),
      r.seconds.toFixed(2).padStart(8),
      r.cpuSeconds.toFixed(2).padStart(7),
      r.inertia.toFixed(1).padStart(14),
      (base ? (r.seconds / base.seconds).toFixed(2) : "-").padStart(8),
      (base ? (r.inertia / base.inertia).toFixed(4) : "-").padStart(8),
      r.acc.toFixed(3).padStart(6),
      r.nmi.toFixed(3).padStart(6),
      r.ari.toFixed(3).padStart(6),
      "  " + r.settings,
    ].join(" "));
  }
  console.log("\nsatc k-means ACC by pixel normalisation (nInit=10, seed 0):");
  for (const s of study) {
    console.log(`  ${s.input.padEnd(26)} ${s.metric.padEnd(10)} ACC ${s.acc.toFixed(3)}  NMI ${s.nmi.toFixed(3)}  ARI ${s.ari.toFixed(3)}  inertia ${s.inertia.toFixed(1)}`);
  }
}
