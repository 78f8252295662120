/**
 * The encoders satc knows, by name, and the one entry point that turns a dataset into features:
 * precomputed features pass through, images go through the named encoder and the feature store.
 *
 * | name     | global view (nSamples, d)                       | patches (spatial view)     |
 * |----------|-------------------------------------------------|----------------------------|
 * | pixels   | resized pixels, centred, unit rows (baseline)   | grid of pixel cells        |
 * | clip     | CLIP ViT-B/32 `image_embeds`, unit rows         | -                          |
 * | resnet50 | ResNet-50 feature map averaged over cells, unit | (ResNet patches: spatial)  |
 *
 * The spatial view of clip and resnet50 runs is ResNet-50's patch map, channel-reduced as it
 * streams: resnetSpatialNodes (./spatialNodes.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset, ImageDataset } from "../input/dataset.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { normalizeRows, type Matrix } from "../util/matrix.js";
import type { RunRecord } from "../run/record.js";
import { FeatureStore, defaultFeatureStoreDir, type FeatureKey } from "../features/store.js";
import { readNpy } from "../features/npy.js";
import type { ResolveOptions } from "../models/resolve.js";
import { MODELS } from "../models/registry.js";
import { encodePixels, resolvePixelsOptions, type PixelsOptions } from "./pixels.js";
import { ClipEncoder, type Device } from "./clip.js";
import { Resnet50Encoder } from "./resnet50.js";
import { poolNodes } from "../spatial/method.js";
import { clipImageEncoder, encodeDataset, type DatasetEncoder, type EncodeProgress } from "./encode.js";

export {
  resnetSpatialNodes, resnetOptionsOf, reducedPatchEncoder, sampleImageIndices,
  type SpatialNodes, type SpatialNodesOptions, type SpatialNodesProgress, type SpatialNodesReduce,
} from "./spatialNodes.js";

export const encoderNames = ["pixels", "clip", "resnet50"] as const;
export type EncoderName = (typeof encoderNames)[number];

/** Bumped whenever an encoder's output changes, so cached features are recomputed. */
const ENCODER_VERSION: Record<EncoderName, number> = { pixels: 1, clip: 1, resnet50: 1 };

export interface EncodedFeatures {
  /** Global view, (nSamples, nFeatures). */
  global: Matrix;
  /** Patch nodes for the spatial view, (nSamples, nCells, nChannels), when the encoder has them. */
  patches: { data: Float32Array; shape: [number, number, number] } | null;
  /** What made the features, for run.json. */
  info: RunRecord["encoder"];
  /** The .npy file holding `global`, when it is on disk (feature cache or the user's own file). */
  path: string | null;
  /** True when the features came from the cache. */
  cached: boolean;
}

/** Options of the pretrained encoders (clip, resnet50). */
export interface ModelEncoderOptions extends ResolveOptions {
  /** Hub repository; default the registry's. */
  model?: string;
  revision?: string;
  /** Weights variant ("fp32" default, "fp16", "q8", ...). */
  dtype?: string;
  device?: Device;
  /** Images per batch; default 32. */
  batchSize?: number;
  /** ResNet-50 preprocessing: "shorter" (default), "imagenet" or "squash". */
  preprocess?: string;
}

export interface EncodeOptions {
  /** Feature cache folder; false: no cache. */
  cacheDir?: string | false;
  onProgress?: (p: { done: number; total: number; imagesPerSecond?: number; etaSeconds?: number | null }) => void;
}

function precomputed(dataset: Extract<Dataset, { kind: "features" }>): EncodedFeatures {
  return {
    global: dataset.features,
    patches: null,
    info: { name: "precomputed", options: {}, models: [], baseline: false },
    path: dataset.source.endsWith(".npy") ? dataset.source : null,
    cached: false,
  };
}

export async function encodeFeatures(
  dataset: Dataset,
  encoder: EncoderName,
  encoderOptions: Record<string, unknown>,
  options: EncodeOptions = {},
): Promise<EncodedFeatures> {
  if (dataset.kind === "features") return precomputed(dataset);
  if (!encoderNames.includes(encoder)) throw new UsageError(expected(`one of ${encoderNames.join(", ")}`, "--encoder", encoder));
  const store = options.cacheDir === false ? null : new FeatureStore(options.cacheDir ?? defaultFeatureStoreDir());
  return encoder === "pixels"
    ? encodeWithPixels(dataset, encoderOptions as Partial<PixelsOptions>, store, options)
    : encodeWithModel(dataset, encoder, encoderOptions as ModelEncoderOptions, store, options);
}

function storeKey(dataset: ImageDataset, name: EncoderName, options: Record<string, unknown>): FeatureKey {
  return {
    input: { source: dataset.source, fingerprint: dataset.fingerprint, n: dataset.ids.length },
    encoder: { name, options: { ...options, version: ENCODER_VERSION[name] } },
  };
}

async function encodeWithPixels(dataset: ImageDataset, pixelsOptions: Partial<PixelsOptions>, store: FeatureStore | null, options: EncodeOptions): Promise<EncodedFeatures> {
  const o: PixelsOptions = resolvePixelsOptions(pixelsOptions);
  const info = { name: "pixels", options: { ...o }, models: [], baseline: true };
  const key = storeKey(dataset, "pixels", { ...o });
  const hit = await store?.get(key);
  if (hit && hit.arrays.global && hit.arrays.patches) {
    const [n, d] = hit.arrays.global.shape;
    const [pn, cells, cellLen] = hit.arrays.patches.shape;
    options.onProgress?.({ done: n, total: n });
    return {
      global: { data: hit.arrays.global.data as Float32Array, rows: n, cols: d },
      patches: { data: hit.arrays.patches.data as Float32Array, shape: [pn, cells, cellLen] },
      info,
      path: join(hit.dir, hit.manifest.arrays.global.file),
      cached: true,
    };
  }
  const f = await encodePixels(dataset, o, options.onProgress);
  if (f.global.rows === 0) throw new SatcError(`${dataset.source}: no images to encode`);
  let path: string | null = null;
  if (store) {
    const entry = await store.put(key, {
      global: { data: f.global.data, shape: [f.global.rows, f.global.cols] },
      patches: { data: f.patches.data, shape: [...f.patches.shape] },
    });
    path = join(entry.dir, entry.manifest.arrays.global.file);
  }
  return { global: f.global, patches: f.patches, info, path, cached: false };
}

/**
 * ResNet-50 as a global encoder: its last feature map averaged over the cells (what its own
 * global pooling computes), unit rows. The full patch map is the spatial view's input.
 */
export function resnetGlobalEncoder(resnet: Resnet50Encoder): DatasetEncoder {
  return {
    name: "resnet50",
    key: async () => `resnet50-global:${(await resnet.records()).map((r) => r.sha256).join(",")}:${JSON.stringify(resnet.preprocess)}`,
    async encode(images) {
      const f = await resnet.encodeImages(images);
      const pooled = normalizeRows(poolNodes(f));
      return { global: { data: pooled.data, shape: [pooled.rows, pooled.cols] } };
    },
    records: () => resnet.records(),
  };
}

async function encodeWithModel(
  dataset: ImageDataset,
  name: Exclude<EncoderName, "pixels">,
  o: ModelEncoderOptions,
  store: FeatureStore | null,
  options: EncodeOptions,
): Promise<EncodedFeatures> {
  const registered = name === "clip" ? MODELS.clip : MODELS.resnet50;
  const model = o.model ?? registered.id;
  const identity = {
    model,
    revision: o.revision ?? (model === registered.id ? registered.revision : "main"),
    dtype: o.dtype ?? "fp32",
    ...(name === "resnet50" ? { preprocess: o.preprocess ?? "shorter" } : {}),
  };
  const key = storeKey(dataset, name, identity);
  const load = { ...o, ...identity, threads: undefined };
  // The model is loaded even on a cache hit: its file hashes go into run.json, and loading is cheap next to encoding.
  const loaded = name === "clip" ? await ClipEncoder.load({ ...load, parts: ["vision"] }) : await Resnet50Encoder.load(load);
  try {
    const encoder = loaded instanceof ClipEncoder ? clipImageEncoder(loaded) : resnetGlobalEncoder(loaded);
    return await encodeOrReuse(dataset, name, encoder, key, identity, store, o.batchSize, options);
  } finally {
    await loaded.dispose();
  }
}

async function encodeOrReuse(
  dataset: ImageDataset,
  name: string,
  encoder: DatasetEncoder,
  key: FeatureKey,
  identity: Record<string, unknown>,
  store: FeatureStore | null,
  batchSize: number | undefined,
  options: EncodeOptions,
): Promise<EncodedFeatures> {
  const info = { name, options: identity, models: await encoder.records(), baseline: false };
  const hit = await store?.get(key);
  if (hit?.arrays.global) {
    const [n, d] = hit.arrays.global.shape;
    options.onProgress?.({ done: n, total: n });
    return { global: { data: hit.arrays.global.data as Float32Array, rows: n, cols: d }, patches: null, info, path: join(hit.dir, hit.manifest.arrays.global.file), cached: true };
  }
  // Stream to a scratch folder (kept across interruptions when there is a store, so a rerun resumes).
  const work = store ? store.workDir(key) : await mkdtemp(join(tmpdir(), "satc-encode-"));
  const result = await encodeDataset(dataset, encoder, {
    out: work,
    batchSize,
    onProgress: (p: EncodeProgress) => options.onProgress?.({ done: p.done, total: p.total, imagesPerSecond: p.imagesPerSecond, etaSeconds: p.etaSeconds }),
  });
  if (!result.complete) throw new SatcError(`encoding ${dataset.source} with ${name} stopped before the end; run again to resume`);
  let path: string;
  if (store) {
    const entry = await store.adopt(key, result.files);
    await rm(work, { recursive: true, force: true });
    path = join(entry.dir, entry.manifest.arrays.global.file);
  } else {
    path = result.files.global.path;
  }
  const array = await readNpy(path);
  if (!store) await rm(work, { recursive: true, force: true });
  const [n, d] = array.shape;
  return { global: { data: array.data as Float32Array, rows: n, cols: d }, patches: null, info, path: store ? path : null, cached: false };
}
