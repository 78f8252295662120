/**
 * Test helpers for the report and the export: synthetic run folders, a fake image dataset, a tiny
 * seeded k-means to give real images real clusters, and a small IDX file cut from Fashion-MNIST.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { writeNpy } from "../../src/features/npy.js";
import type { ImageDataset, RawImage } from "../../src/input/dataset.js";
import type { RunRecord } from "../../src/run/record.js";
import { writeRunFolder } from "../../src/run/folder.js";
import { Random } from "../../src/util/random.js";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
export const hasFashionMnist = existsSync(join(FASHION_DIR, "t10k-images-idx3-ubyte.gz"));

export interface RunSpec {
  ids: string[];
  cluster: Int32Array;
  confidence: Float32Array;
  k: number;
  source: string;
  name?: string;
  names?: string[][] | null;
  classNames?: string[] | null;
  /** Class per item, to fill metrics-free confusion; null without labels. */
  labels?: Int32Array | null;
  /** (n, d) features to store as features.npy (relative path in run.json). */
  features?: { data: Float32Array; cols: number } | null;
  seed?: number;
}

/** A complete RunRecord for a spec, with a confusion matrix when labels are given. */
export function makeRecord(spec: RunSpec): RunRecord {
  const n = spec.ids.length;
  const sizes = new Array<number>(spec.k).fill(0);
  for (const c of spec.cluster) sizes[c]++;
  let confusion: number[][] | null = null;
  if (spec.labels) {
    const classes = Math.max(spec.classNames?.length ?? 0, ...Array.from(spec.labels, (v) => v + 1));
    confusion = Array.from({ length: spec.k }, () => new Array<number>(classes).fill(0));
    spec.labels.forEach((y, i) => confusion![spec.cluster[i]][y]++);
  }
  const metrics = spec.labels ? { acc: 0.5, nmi: 0.4, ari: 0.3 } : null;
  return {
    satcVersion: "0.1.0",
    command: `satc cluster ${spec.source} -k ${spec.k}`,
    createdAt: "2025-01-01T00:00:00.000Z",
    input: {
      source: spec.source,
      name: spec.name ?? "synthetic",
      n,
      hasLabels: spec.labels != null,
      classNames: spec.classNames ?? null,
      skipped: [{ id: "broken<1>.png", reason: "cannot decode <b>header</b>" }],
    },
    evalInput: null,
    options: { k: spec.k, seed: spec.seed ?? 7, text: "auto", epochs: 200 },
    encoder: { name: "pixels", options: { size: 28 }, models: [], baseline: true },
    features: spec.features ? { global: "features.npy", dims: [n, spec.features.cols] } : null,
    text: { tau: 0.21, threshold: 0.33, used: false, mode: "auto" },
    clusters: { k: spec.k, sizes, names: spec.names ?? null },
    metrics,
    confusion,
    eval: null,
    runs: [{ seed: spec.seed ?? 7, metrics, eval: null, seconds: 12.5, iterations: 40, warnings: [] }],
    summary: null,
    timings: { encode: 3.2, train: 9.3 },
    versions: { node: process.version },
  };
}

/** Write run.json, assignments.csv and (when given) features.npy into `dir`. */
export async function makeRun(dir: string, spec: RunSpec): Promise<RunRecord> {
  const record = makeRecord(spec);
  await writeRunFolder(dir, record, { ids: spec.ids, cluster: spec.cluster, confidence: spec.confidence });
  if (spec.features) await writeNpy(join(dir, "features.npy"), spec.features.data, [spec.ids.length, spec.features.cols]);
  return record;
}

/** An in-memory ImageDataset over the given images. */
export function fakeImages(images: RawImage[], opts: { ids?: string[]; labels?: Int32Array | null; classNames?: string[] | null; paths?: string[] } = {}): ImageDataset {
  const ids = opts.ids ?? images.map((_, i) => `img-${i}`);
  const dataset: ImageDataset = {
    kind: "images",
    name: "fake",
    source: "fake:",
    fingerprint: "fake",
    ids,
    labels: opts.labels ?? null,
    classNames: opts.classNames ?? null,
    skipped: [],
    loadImage: async (i) => images[i],
  };
  if (opts.paths) dataset.path = (i) => opts.paths![i];
  return dataset;
}

/** A width x height RGB image of one colour with a darker square whose place depends on `i`. */
export function solidImage(i: number, width = 20, height = 16): RawImage {
  const data = new Uint8Array(width * height * 3);
  const r = (i * 53) % 256, g = (i * 97) % 256, b = (i * 151) % 256;
  for (let p = 0; p < width * height; p++) {
    const x = p % width, y = Math.floor(p / width);
    const dark = x >= i % (width - 4) && x < (i % (width - 4)) + 4 && y < 4;
    data[3 * p] = dark ? 0 : r;
    data[3 * p + 1] = dark ? 0 : g;
    data[3 * p + 2] = dark ? 0 : b;
  }
  return { data, width, height, channels: 3 };
}

/**
 * Lloyd's k-means on rows of `x` (n, d), seeded, k-means++ start; confidence = softmax over
 * clusters of -squared distance / (mean squared distance to the own centre).
 */
export function tinyKmeans(x: Float32Array, n: number, d: number, k: number, seed: number, iterations = 20): { cluster: Int32Array; confidence: Float32Array } {
  const random = new Random(seed);
  const centres = new Float32Array(k * d);
  const dist = (i: number, c: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[i * d + j] - centres[c * d + j];
      s += t * t;
    }
    return s;
  };
  const first = random.int(n);
  centres.set(x.subarray(first * d, first * d + d), 0);
  const best = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      best[i] = Math.min(best[i], dist(i, c - 1));
      total += best[i];
    }
    let r = random.next() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= best[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    centres.set(x.subarray(pick * d, pick * d + d), c * d);
  }
  const cluster = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      let b = 0, bd = Infinity;
      for (let c = 0; c < k; c++) {
        const v = dist(i, c);
        if (v < bd) [b, bd] = [c, v];
      }
      cluster[i] = b;
    }
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[cluster[i]]++;
      for (let j = 0; j < d; j++) sums[cluster[i] * d + j] += x[i * d + j];
    }
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j] / counts[c];
  }
  let scale = 0;
  for (let i = 0; i < n; i++) scale += dist(i, cluster[i]);
  scale = scale / n || 1;
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const e = Array.from({ length: k }, (_, c) => -dist(i, c) / scale);
    const m = Math.max(...e);
    const z = e.reduce((a, v) => a + Math.exp(v - m), 0);
    confidence[i] = 1 / z; // exp(own - max) / z with own = max for the nearest centre
  }
  return { cluster, confidence };
}

/** Write the first `count` images and labels of a pixel block as a gzipped IDX pair; returns the images path. */
export async function writeIdxPair(dir: string, pixels: Uint8Array, labels: Int32Array, count: number, side = 28): Promise<string> {
  const imgHeader = Buffer.alloc(16);
  imgHeader.writeUInt32BE(0x00000803, 0);
  imgHeader.writeUInt32BE(count, 4);
  imgHeader.writeUInt32BE(side, 8);
  imgHeader.writeUInt32BE(side, 12);
  const lblHeader = Buffer.alloc(8);
  lblHeader.writeUInt32BE(0x00000801, 0);
  lblHeader.writeUInt32BE(count, 4);
  const imagesPath = join(dir, "small-images-idx3-ubyte.gz");
  await writeFile(imagesPath, gzipSync(Buffer.concat([imgHeader, Buffer.from(pixels.subarray(0, count * side * side))])));
  await writeFile(join(dir, "small-labels-idx1-ubyte.gz"), gzipSync(Buffer.concat([lblHeader, Buffer.from(Uint8Array.from(labels.subarray(0, count)))])));
  return imagesPath;
}

/** Pixels (n, 784) as floats in [0,1], the features the map is drawn from in tests. */
export function pixelFeatures(pixels: Uint8Array, count: number, size = 784): Float32Array {
  const out = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) out[i] = pixels[i] / 255;
  return out;
}
