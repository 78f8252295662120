/**
 * The encoders satc knows, by name, and the one entry point that turns a dataset into features:
 * precomputed features pass through, images go through the named encoder.
 */
import type { Dataset } from "../input/dataset.js";
import { SatcError, UsageError, expected } from "../errors.js";
import type { Matrix } from "../util/matrix.js";
import type { RunRecord } from "../run/record.js";
import { join } from "node:path";
import { FeatureStore, defaultFeatureStoreDir, type FeatureKey } from "../features/store.js";
import { encodePixels, resolvePixelsOptions, type PixelsOptions } from "./pixels.js";

export const encoderNames = ["pixels"] as const;

/** Bumped whenever the pixels encoder's output changes, so cached features are recomputed. */
const PIXELS_VERSION = 1;
export type EncoderName = (typeof encoderNames)[number];

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

export interface EncodeOptions {
  /** Feature cache folder; false: no cache. */
  cacheDir?: string | false;
  onProgress?: (p: { done: number; total: number }) => void;
}

export async function encodeFeatures(
  dataset: Dataset,
  encoder: EncoderName,
  encoderOptions: Record<string, unknown>,
  options: EncodeOptions = {},
): Promise<EncodedFeatures> {
  if (dataset.kind === "features") {
    return {
      global: dataset.features,
      patches: null,
      info: { name: "precomputed", options: {}, models: [], baseline: false },
      path: dataset.source.endsWith(".npy") ? dataset.source : null,
      cached: false,
    };
  }
  if (!encoderNames.includes(encoder)) throw new UsageError(expected(`one of ${encoderNames.join(", ")}`, "--encoder", encoder));
  const o: PixelsOptions = resolvePixelsOptions(encoderOptions as Partial<PixelsOptions>);
  const info = { name: "pixels", options: { ...o }, models: [], baseline: true };
  // The version is part of the key: a change to what the encoder computes must not reuse old files.
  const key: FeatureKey = {
    input: { source: dataset.source, fingerprint: dataset.fingerprint, n: dataset.ids.length },
    encoder: { name: "pixels", options: { ...o, version: PIXELS_VERSION } },
  };
  const store = options.cacheDir === false ? null : new FeatureStore(options.cacheDir ?? defaultFeatureStoreDir());
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
