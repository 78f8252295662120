/**
 * Encode an image dataset at scale: batches, the next batch decoded while the model runs, progress
 * with images/s and ETA, every batch streamed to .npy files (src/features/stream.ts) so resident
 * memory stays flat, and resume from what an interrupted run already wrote.
 *
 * Outputs per encoder: CLIP -> `global` (n, 512), L2-normalised rows (DESIGN 1, visual view);
 * ResNet-50 -> `patches` (n, cells, channels). Files: `<out>/<output>.npy`.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ImageDataset, RawImage } from "../input/dataset.js";
import type { ModelRecord } from "../run/record.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { normalizeRows } from "../util/matrix.js";
import { openRowWriter, type RowWriter } from "../features/stream.js";
import type { ClipEncoder } from "./clip.js";
import type { Resnet50Encoder } from "./resnet50.js";

/** One output array of a batch: data (B, ...shape.slice(1)) with shape[0] = B. */
export interface BatchOutput {
  data: Float32Array;
  shape: number[];
}

export interface DatasetEncoder {
  name: string;
  /** A string that changes whenever the features would (model file hash, options): the resume key. */
  key(): Promise<string>;
  encode(images: RawImage[]): Promise<Record<string, BatchOutput>>;
  records(): Promise<ModelRecord[]>;
}

/** CLIP image tower as a dataset encoder: `global` (n, 512), unit rows. */
export function clipImageEncoder(clip: ClipEncoder): DatasetEncoder {
  return {
    name: "clip",
    key: async () => `clip:${(await clip.records()).map((r) => r.sha256).join(",")}:${JSON.stringify(clip.preprocess)}`,
    async encode(images) {
      const m = normalizeRows(await clip.encodeImages(images));
      return { global: { data: m.data, shape: [m.rows, m.cols] } };
    },
    records: () => clip.records(),
  };
}

/** ResNet-50 feature map as a dataset encoder: `patches` (n, cells, channels). */
export function resnetPatchEncoder(resnet: Resnet50Encoder): DatasetEncoder {
  return {
    name: "resnet50",
    key: async () => `resnet50:${(await resnet.records()).map((r) => r.sha256).join(",")}:${JSON.stringify(resnet.preprocess)}`,
    async encode(images) {
      const f = await resnet.encodeImages(images);
      return { patches: { data: f.data, shape: [...f.shape] } };
    },
    records: () => resnet.records(),
  };
}

export interface EncodeProgress {
  done: number;
  total: number;
  /** Images per second over this run (resumed images not counted). */
  imagesPerSecond: number;
  /** Seconds left at that rate; null before the first batch. */
  etaSeconds: number | null;
  /** Images found already encoded when the run started. */
  resumedFrom: number;
}

export interface EncodeDatasetOptions {
  /** Folder for `<output>.npy`. */
  out: string;
  /** Images per batch; default 32. */
  batchSize?: number;
  onProgress?: (event: EncodeProgress) => void;
  /** Stop (leaving a resumable partial file) after this many images in this run; for tests and time limits. */
  maxImages?: number;
}

export interface EncodeDatasetResult {
  /** Output name -> .npy path and full shape. */
  files: Record<string, { path: string; shape: number[] }>;
  complete: boolean;
  resumedFrom: number;
  seconds: number;
}

/**
 * Encode every image of `dataset` with `encoder`, streaming to `<out>/<output>.npy`.
 * A previous interrupted run with the same encoder key and dataset fingerprint is continued.
 */
export async function encodeDataset(dataset: ImageDataset, encoder: DatasetEncoder, options: EncodeDatasetOptions): Promise<EncodeDatasetResult> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(expected("a positive integer", "batch size", batchSize));
  const total = dataset.ids.length;
  if (total === 0) throw new SatcError(`${dataset.source}: no images to encode`);
  await mkdir(options.out, { recursive: true });
  const key = `${await encoder.key()}|${dataset.fingerprint}|n=${total}`;
  const load = (start: number) => Promise.all(Array.from({ length: Math.min(batchSize, total - start) }, (_, k) => dataset.loadImage(start + k)));

  // Resume: probe existing partial files once the row shapes are known (first batch of this run).
  const started = performance.now();
  let writers: Record<string, RowWriter> | null = null;
  let shapes: Record<string, number[]> = {};
  let start = 0;
  let resumedFrom = 0;
  let doneThisRun = 0;
  const limit = options.maxImages ?? Infinity;
  try {
    // The first batch fixes the shapes; it is encoded even on resume (cheap) to learn them.
    let batch = await load(0);
    let outputs = await encoder.encode(batch);
    shapes = Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, [total, ...o.shape.slice(1)]]));
    writers = {};
    for (const [name, shape] of Object.entries(shapes)) writers[name] = await openRowWriter(join(options.out, `${name}.npy`), shape, key);
    resumedFrom = Math.min(...Object.values(writers).map((w) => w.rowsDone));
    resumedFrom -= resumedFrom % batchSize;
    if (resumedFrom === 0) {
      for (const [name, o] of Object.entries(outputs)) await writers[name].writeRows(0, o.data);
      start = batch.length;
      doneThisRun = batch.length;
    } else {
      start = resumedFrom;
    }
    let next = start < total && doneThisRun < limit ? load(start) : null;
    options.onProgress?.(progress(start, total, doneThisRun, started, resumedFrom));
    while (next !== null) {
      batch = await next;
      const after = start + batch.length;
      next = after < total && doneThisRun + batch.length < limit ? load(after) : null;
      outputs = await encoder.encode(batch);
      for (const [name, o] of Object.entries(outputs)) await writers[name].writeRows(start, o.data);
      start = after;
      doneThisRun += batch.length;
      options.onProgress?.(progress(start, total, doneThisRun, started, resumedFrom));
    }
    const complete = start >= total;
    for (const w of Object.values(writers)) await (complete ? w.finish() : w.close());
    writers = null;
    const files = Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, { path: join(options.out, `${name}.npy`), shape }]));
    return { files, complete, resumedFrom, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (writers !== null) for (const w of Object.values(writers)) await w.close().catch(() => undefined);
  }
}

function progress(done: number, total: number, doneThisRun: number, started: number, resumedFrom: number): EncodeProgress {
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? doneThisRun / seconds : 0;
  return { done, total, imagesPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : null, resumedFrom };
}
