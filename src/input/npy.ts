/**
 * A feature matrix computed elsewhere, as a `.npy` file of shape (nSamples, nFeatures), float32 or
 * float64 (converted to float32), with an optional labels file (see labels.ts).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { SatcError } from "../errors.js";
import { parseNpy } from "../features/npy.js";
import { matrix } from "../util/matrix.js";
import type { FeatureDataset } from "./dataset.js";
import { readLabelsFile } from "./labels.js";

export interface NpyFeaturesOptions {
  /** Labels file: `.npy` of integers, or text with one label (integer or class name) per line. */
  labels?: string;
}

/** Open `path` as a FeatureDataset; ids are row numbers "0", "1", ... */
export async function openNpyFeatures(path: string, options: NpyFeaturesOptions = {}): Promise<FeatureDataset> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SatcError(`cannot read feature file ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  const array = parseNpy(bytes, path);
  if (array.dtype !== "float32" && array.dtype !== "float64") {
    throw new SatcError(`${path}: features must be float32 or float64 but the file holds ${array.dtype}`, { file: path });
  }
  if (array.shape.length !== 2) {
    throw new SatcError(
      `${path}: features must be a 2-D array (nSamples, nFeatures) but its shape is (${array.shape.join(", ")})`,
      { file: path },
    );
  }
  const [rows, cols] = array.shape;
  if (rows === 0 || cols === 0) {
    throw new SatcError(`${path}: the feature matrix is empty, shape (${rows}, ${cols})`, { file: path });
  }
  const data = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data as Float64Array);
  checkFinite(array.data as Float32Array | Float64Array, rows, cols, path);
  if (array.dtype === "float64") {
    // Finite float64 values beyond float32's range become Infinity when converted.
    checkFinite(data, rows, cols, path, " after conversion from float64 to float32");
  }

  const hash = createHash("sha256").update(bytes);
  let labels: Int32Array | null = null;
  let classNames: string[] | null = null;
  if (options.labels !== undefined) {
    const set = await readLabelsFile(options.labels, rows, path);
    labels = set.labels;
    classNames = set.classNames;
    hash.update(await readFile(options.labels));
  }
  return {
    kind: "features",
    name: basename(path).replace(/\.npy$/i, ""),
    source: path,
    fingerprint: `sha256:${hash.digest("hex")}`,
    ids: Array.from({ length: rows }, (_, i) => String(i)),
    labels,
    classNames,
    skipped: [],
    features: matrix(data, rows, cols),
  };
}

function checkFinite(data: Float32Array | Float64Array, rows: number, cols: number, path: string, note = ""): void {
  let bad = 0;
  let first = -1;
  let nan = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      // NaN or +-Infinity (Infinity - Infinity is NaN)
      if (first < 0) first = i;
      bad++;
      if (Number.isNaN(v)) nan++;
    }
  }
  if (bad === 0) return;
  const r = Math.floor(first / cols);
  const c = first % cols;
  const badRows = new Set<number>();
  for (let i = first; i < data.length; i++) if (data[i] - data[i] !== 0) badRows.add(Math.floor(i / cols));
  throw new SatcError(
    `${path}: ${bad} non-finite value${bad === 1 ? "" : "s"}${note} (${nan} NaN, ${bad - nan} infinite) in ${badRows.size} of ${rows} rows; ` +
      `the first is ${data[first]} at row ${r}, column ${c}`,
    { file: path },
  );
}
