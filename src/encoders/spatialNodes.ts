/**
 * ResNet-50 patch nodes for the spatial view of runs whose visual view is a pretrained encoder
 * (CLIP, or ResNet-50 itself), channel-reduced as they stream (DESIGN 1.3).
 *
 * The full (nSamples, 49, 2048) float32 map is never held: 400 KB per image, 24 GB for 60k images.
 * 1. Fit: a seeded sample of images (default 1,000) goes through ResNet-50 in batches; from their
 *    nodes a seeded sample of nodes (default 20,000) is kept, (sampleNodes, 2048) at most 160 MB,
 *    and the channel reduction (src/spatial/reduce.ts: PCA to 64 channels by default, or the
 *    seeded projection, which needs one image only to learn the channel count) is fitted on them.
 * 2. Stream: every image goes through ResNet-50 again in batches (encodeDataset); each batch is
 *    reduced at once and only (B, cells, channels) is written to the feature store's .npy.
 *    The sampled images are encoded twice (1,000 extra of 60,000: under 2%).
 *
 * Stored as one feature-store entry (arrays `patches` (n, cells, d), `components` (d, c), `mean` (c),
 * and for PCA `variance` (d) and `total_variance` (1)), keyed by the dataset, the model identity
 * and the SHA-256 of its ONNX file, the preprocessing and every reduction setting, so a second run
 * reads it back without running the model. An interrupted run resumes: the fitted reduction is kept
 * in the entry's work folder and the streamed rows continue where they stopped.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageDataset } from "../input/dataset.js";
import type { ModelRecord, SpatialNodesRecord } from "../run/record.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { FeatureStore, defaultFeatureStoreDir, type FeatureKey } from "../features/store.js";
import { readNpy, writeNpy } from "../features/npy.js";
import { MODELS, checkDtype, filesFor, onnxFile } from "../models/registry.js";
import { modelRecord, resolveModelFiles } from "../models/resolve.js";
import { Random } from "../util/random.js";
import type { PatchNodes } from "../spatial/graph.js";
import { applyChannelReduction, fitChannelReduction, type ChannelReduction, type ReductionMethod } from "../spatial/reduce.js";
import { encodeDataset, type DatasetEncoder, type EncodeProgress } from "./encode.js";
import { resnetPreprocess } from "./preprocess.js";
import { Resnet50Encoder } from "./resnet50.js";
import type { EncoderName, ModelEncoderOptions } from "./index.js";

/** Bumped whenever the nodes computed here change, so stored nodes are recomputed. */
const SPATIAL_NODES_VERSION = 1;

/** How the nodes' channels are reduced, and on what sample the reduction is fitted. */
export interface SpatialNodesReduce {
  /** Channels kept, d_r. Default 64. */
  channels?: number;
  /** Default "pca". */
  method?: ReductionMethod;
  /** Images encoded to fit the PCA (a seeded sample). Default 1000. */
  sampleImages?: number;
  /** Nodes drawn from those images' nodes to fit the PCA. Default 20000. */
  sampleNodes?: number;
  /** Power iterations of the randomised SVD. Default 4. */
  powerIterations?: number;
  /** Seed of the image sample, the node sample and the fit. Default 0. */
  seed?: number;
}

export interface SpatialNodesProgress {
  /** "sample": encoding the images the reduction is fitted on; "nodes": encoding and reducing every image. */
  stage: "sample" | "nodes";
  /** Images done over both passes, of total = sample images + nSamples. */
  done: number;
  total: number;
  imagesPerSecond?: number;
  etaSeconds?: number | null;
}

export interface SpatialNodesOptions {
  /**
   * The ResNet-50 to run: hub id, revision, dtype, preprocess, device, batch size, and where its
   * files are (modelDir, the model cache, offline). The same ModelEncoderOptions as the encoders'.
   */
  model?: ModelEncoderOptions;
  reduce?: SpatialNodesReduce;
  /** Feature store folder; false: no store (nothing reused, nothing resumed). */
  cacheDir?: string | false;
  /** ONNX Runtime threads of the model and the reduction. Default: all cores. */
  threads?: number;
  onProgress?: (p: SpatialNodesProgress) => void;
}

export interface SpatialNodes {
  /** Reduced nodes, (nSamples, cells, channels): 49 cells at 224 px, channels = reduce.channels (or fewer when the model has fewer). */
  nodes: PatchNodes;
  /** The reduction applied to ResNet-50's channels ("identity" when it has no more than d_r). */
  reduction: ChannelReduction;
  /** For run.json. */
  info: SpatialNodesRecord;
  /** True when the nodes came from the feature store. */
  cached: boolean;
}

type Settings = Required<SpatialNodesReduce>;

function resolveSettings(r: SpatialNodesReduce = {}): Settings {
  const s: Settings = { channels: 64, method: "pca", sampleImages: 1000, sampleNodes: 20000, powerIterations: 4, seed: 0, ...stripUndefined(r) };
  for (const [name, v, min] of [["reduced channels", s.channels, 1], ["sample images", s.sampleImages, 1], ["sample nodes", s.sampleNodes, 1], ["power iterations", s.powerIterations, 0], ["seed", s.seed, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new UsageError(expected(min === 0 ? "an integer >= 0" : "a positive integer", name, v));
  }
  if (s.method !== "pca" && s.method !== "projection") throw new UsageError(expected("'pca' or 'projection'", "reduction method", s.method));
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The settings that change the reduction: the sample only matters to PCA. */
function reductionKey(s: Settings): Record<string, unknown> {
  return s.method === "pca" ? { ...s } : { channels: s.channels, method: s.method, seed: s.seed };
}

/** The seeded sample of images the reduction is fitted on, in ascending order (sequential reads). */
export function sampleImageIndices(n: number, reduce: SpatialNodesReduce = {}): Int32Array {
  const s = resolveSettings(reduce);
  const count = s.method === "projection" ? 1 : Math.min(n, s.sampleImages);
  return new Random(s.seed).permutation(n).subarray(0, count).sort();
}

/**
 * ResNet-50 patch nodes of every image of `dataset`, channel-reduced, through the feature store
 * (see the module comment). Returns (nSamples, cells, channels) and what made them.
 */
export async function resnetSpatialNodes(dataset: ImageDataset, options: SpatialNodesOptions = {}): Promise<SpatialNodes> {
  if ((dataset as { kind: string }).kind !== "images") throw new UsageError(`${dataset.source}: ResNet-50 patch nodes need images, not precomputed features`);
  const n = dataset.ids.length;
  if (n === 0) throw new SatcError(`${dataset.source}: no images to encode`);
  const o = options.model ?? {};
  const s = resolveSettings(options.reduce);
  const id = o.model ?? MODELS.resnet50.id;
  const identity = {
    model: id,
    revision: o.revision ?? (id === MODELS.resnet50.id ? MODELS.resnet50.revision : "main"),
    dtype: checkDtype(o.dtype ?? "fp32"),
    preprocess: o.preprocess ?? "shorter",
  };
  resnetPreprocess(identity.preprocess); // a bad name fails before any work
  // The model file's hash goes into the key: a changed file under --model-dir gives new nodes. Resolving hashes, it runs nothing.
  const resolved = await resolveModelFiles(identity.model, identity.revision, filesFor(MODELS.resnet50, ["classifier"], identity.dtype), o);
  const models: ModelRecord[] = [await modelRecord(resolved, onnxFile(MODELS.resnet50, "classifier", identity.dtype))];
  const key: FeatureKey = {
    input: { source: dataset.source, fingerprint: dataset.fingerprint, n },
    encoder: { name: "resnet50-nodes", options: { ...identity, sha256: models.map((m) => m.sha256), reduce: reductionKey(s), version: SPATIAL_NODES_VERSION } },
  };
  const store = options.cacheDir === false ? null : new FeatureStore(options.cacheDir ?? defaultFeatureStoreDir());
  const sample = sampleImageIndices(n, s);
  const record = (nodes: PatchNodes, r: ChannelReduction, path: string | null, cached: boolean): SpatialNodesRecord => ({
    name: "resnet50",
    options: identity,
    models,
    cells: nodes.shape[1],
    inChannels: r.inChannels,
    channels: r.outChannels,
    reduction: {
      method: r.method,
      sampleImages: r.method === "pca" ? sample.length : 0,
      sampleNodes: r.method === "pca" ? Math.min(s.sampleNodes, sample.length * nodes.shape[1]) : 0,
      seed: s.seed,
      // totalVariance as stored (float32), so a stored entry reports the very same share.
      explainedVariance: r.variance && r.totalVariance ? r.variance.reduce((a, b) => a + b, 0) / Math.fround(r.totalVariance) : null,
    },
    path,
    cached,
  });

  const hit = await store?.get(key);
  if (hit && hit.arrays.patches && hit.arrays.components && hit.arrays.mean) {
    const [hn, cells, d] = hit.arrays.patches.shape;
    const c = hit.arrays.components.shape[1];
    const reduction: ChannelReduction = {
      method: d === c ? "identity" : s.method,
      inChannels: c,
      outChannels: d,
      mean: hit.arrays.mean.data as Float32Array,
      components: hit.arrays.components.data as Float32Array,
      ...(hit.arrays.variance && hit.arrays.total_variance ? { variance: hit.arrays.variance.data as Float32Array, totalVariance: hit.arrays.total_variance.data[0] } : {}),
    };
    const nodes: PatchNodes = { data: hit.arrays.patches.data as Float32Array, shape: [hn, cells, d] };
    options.onProgress?.({ stage: "nodes", done: n, total: n });
    return { nodes, reduction, info: record(nodes, reduction, join(hit.dir, hit.manifest.arrays.patches.file), true), cached: true };
  }

  const resnet = await Resnet50Encoder.load({ ...o, ...identity, threads: options.threads });
  const work = store ? store.workDir(key) : await mkdtemp(join(tmpdir(), "satc-nodes-"));
  try {
    const total = sample.length + n;
    const reduction = (await readReduction(work)) ?? (await fitOnSample(dataset, resnet, sample, s, o.batchSize ?? 32, options, total));
    await writeReduction(work, reduction);
    const result = await encodeDataset(dataset, reducedPatchEncoder(resnet, reduction, options.threads), {
      out: work,
      batchSize: o.batchSize,
      onProgress: (p: EncodeProgress) => options.onProgress?.({ stage: "nodes", done: sample.length + p.done, total, imagesPerSecond: p.imagesPerSecond, etaSeconds: p.etaSeconds }),
    });
    if (!result.complete) throw new SatcError(`ResNet-50 patch nodes of ${dataset.source} stopped before the end; run again to resume`);
    let path = result.files.patches.path;
    if (store) {
      const entry = await store.adopt(key, Object.fromEntries(reductionArrays(reduction).map(([name]) => [name, { path: join(work, `${name}.npy`) }]).concat([["patches", { path }]])));
      path = join(entry.dir, entry.manifest.arrays.patches.file);
    }
    const array = await readNpy(path);
    await rm(work, { recursive: true, force: true });
    const [an, cells, d] = array.shape;
    const nodes: PatchNodes = { data: array.data as Float32Array, shape: [an, cells, d] };
    return { nodes, reduction, info: record(nodes, reduction, store ? path : null, false), cached: false };
  } catch (err) {
    // With a store the work folder stays for a resume; without one nothing could resume from it.
    if (!store) await rm(work, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  } finally {
    await resnet.dispose();
  }
}

/**
 * Encode the sampled images in batches, keep a seeded sample of their nodes, fit the reduction.
 * Holds (min(sampleNodes, images * cells), channels) plus one batch.
 */
async function fitOnSample(
  dataset: ImageDataset,
  resnet: Resnet50Encoder,
  sample: Int32Array,
  s: Settings,
  batchSize: number,
  options: SpatialNodesOptions,
  total: number,
): Promise<ChannelReduction> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(expected("a positive integer", "batch size", batchSize));
  const started = performance.now();
  let picked: Float32Array | null = null;
  let slotOf: Int32Array | null = null; // (image in sample, cell) -> row of `picked`, or -1
  let cells = 0, c = 0, m = 0;
  for (let start = 0; start < sample.length; start += batchSize) {
    const idx = sample.subarray(start, Math.min(sample.length, start + batchSize));
    const f = await resnet.encodeImages(await Promise.all(Array.from(idx, (i) => dataset.loadImage(i))));
    if (picked === null) {
      [, cells, c] = f.shape;
      const all = sample.length * cells;
      m = Math.min(all, s.sampleNodes);
      const order = new Random(s.seed + 1).permutation(all);
      slotOf = new Int32Array(all).fill(-1);
      for (let r = 0; r < m; r++) slotOf[order[r]] = r;
      picked = new Float32Array(m * c);
    }
    for (let b = 0; b < idx.length; b++) for (let u = 0; u < cells; u++) {
      const slot = slotOf![(start + b) * cells + u];
      if (slot >= 0) picked.set(f.data.subarray((b * cells + u) * c, (b * cells + u + 1) * c), slot * c);
    }
    const done = start + idx.length;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    options.onProgress?.({ stage: "sample", done, total, imagesPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : null });
  }
  return fitChannelReduction({ data: picked!, shape: [m, 1, c] }, {
    channels: s.channels, method: s.method, sampleNodes: m, powerIterations: s.powerIterations, seed: s.seed, threads: options.threads,
  });
}

/** ResNet-50 feature map, reduced batch by batch: `patches` (n, cells, d_r). */
export function reducedPatchEncoder(resnet: Resnet50Encoder, reduction: ChannelReduction, threads?: number): DatasetEncoder {
  const hash = createHash("sha256");
  for (const a of [reduction.components, reduction.mean]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const reductionHash = hash.digest("hex").slice(0, 16);
  return {
    name: "resnet50-nodes",
    key: async () => `resnet50-nodes:${(await resnet.records()).map((r) => r.sha256).join(",")}:${JSON.stringify(resnet.preprocess)}:${reductionHash}`,
    async encode(images) {
      const f = await resnet.encodeImages(images);
      const reduced = await applyChannelReduction({ data: f.data, shape: f.shape }, reduction, { threads });
      return { patches: { data: reduced.data, shape: [...reduced.shape] } };
    },
    records: () => resnet.records(),
  };
}

function reductionArrays(r: ChannelReduction): [string, Float32Array, number[]][] {
  const arrays: [string, Float32Array, number[]][] = [
    ["components", r.components, [r.outChannels, r.inChannels]],
    ["mean", r.mean, [r.inChannels]],
  ];
  if (r.variance && r.totalVariance !== undefined) {
    arrays.push(["variance", r.variance, [r.variance.length]], ["total_variance", Float32Array.of(r.totalVariance), [1]]);
  }
  return arrays;
}

/** Keep the fitted reduction in the work folder, so an interrupted run resumes with the very same one. */
async function writeReduction(work: string, r: ChannelReduction): Promise<void> {
  await mkdir(work, { recursive: true });
  for (const [name, data, shape] of reductionArrays(r)) await writeNpy(join(work, `${name}.npy`), data, shape);
  await writeFile(join(work, "reduction.json"), JSON.stringify({ method: r.method, inChannels: r.inChannels, outChannels: r.outChannels }));
}

async function readReduction(work: string): Promise<ChannelReduction | null> {
  try {
    const meta = JSON.parse(await readFile(join(work, "reduction.json"), "utf8")) as Pick<ChannelReduction, "method" | "inChannels" | "outChannels">;
    const components = (await readNpy(join(work, "components.npy"))).data as Float32Array;
    const mean = (await readNpy(join(work, "mean.npy"))).data as Float32Array;
    if (components.length !== meta.inChannels * meta.outChannels || mean.length !== meta.inChannels) return null;
    const r: ChannelReduction = { ...meta, components, mean };
    if (meta.method === "pca") {
      r.variance = (await readNpy(join(work, "variance.npy"))).data as Float32Array;
      r.totalVariance = (await readNpy(join(work, "total_variance.npy"))).data[0] as number;
    }
    return r;
  } catch {
    return null;
  }
}

/**
 * The ResNet-50 behind the spatial nodes of a run whose visual encoder is `encoder`: with resnet50
 * the encoder's own options; with clip only where the model files are and how it runs (CLIP's hub
 * id, revision and dtype are CLIP's, not ResNet's).
 */
export function resnetOptionsOf(encoder: EncoderName, e: ModelEncoderOptions): ModelEncoderOptions {
  if (encoder === "resnet50") return e;
  const { modelDir, cacheDir, offline, remoteHost, onProgress, device, batchSize } = e;
  return { modelDir, cacheDir, offline, remoteHost, onProgress, device, batchSize };
}
