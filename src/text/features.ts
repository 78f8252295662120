/**
 * Precomputed embeddings for the text view (`satc cluster --features <dir>`), so it works without
 * running the encoders: image embeddings and noun-bank embeddings from `.npy` files, in satc's
 * layout or in TAC's (its `data/` folder, as its scripts write it).
 *
 * satc layout:
 *   images.npy        (nImages, dim)  image embeddings, raw or unit
 *   nouns.npy         (nNouns, dim)   noun-bank embeddings (template mean), raw or unit
 *   nouns.txt         optional, one lemma per line (nNouns lines) for cluster names
 *   labels.npy        optional, (nImages) integer ground truth, for scores only
 *
 * TAC layout (XLearning-SCU/2024-ICML-TAC; "<D>" is a dataset name such as CIFAR-10):
 *   <D>_image_embedding_train.npy   (N, 512) CLIP encode_image, float16 on a GPU run (image_embedding.py)
 *   <D>_image_embedding_test.npy    (N_test, 512), not used here
 *   <D>_labels_train.txt            N lines, np.savetxt floats ("3.000000000000000000e+00")
 *   nouns_embedding_ensemble.npy    (82115, 512) float64: mean over the 7 templates (text_embedding.py)
 *   WordNetNouns.csv                TAC's noun list (first column the word), when present
 *   <D>_image_<K>cluster.npy        (N) int64: TAC's cached spherical k-means of the images (filter_nouns.py)
 *   <D>_retrieved_nouns_embedding.npy (N, 512): TAC's finished text counterpart (retrieve_text.py)
 * float16, float32 and float64 are read; everything comes back as float32.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SatcError, UsageError } from "../errors.js";
import { readNpy } from "../features/npy.js";
import type { Matrix } from "../util/matrix.js";

export interface TextFeatures {
  layout: "satc" | "tac";
  /** TAC layout: the dataset name of the files used. */
  dataset: string | null;
  /** (nImages, dim). */
  images: Matrix;
  /** Noun bank (nNouns, dim). */
  nouns: Matrix;
  /** One lemma per noun (nNouns), when the folder says. */
  lemmas: string[] | null;
  /** Ground-truth labels (nImages), when present: for scores only, never for training. */
  labels: Int32Array | null;
  /** TAC's cached image clustering (nImages) and its K, when present. */
  imageClusters: { labels: Int32Array; k: number } | null;
  /** TAC's finished text counterpart (nImages, dim), when present. */
  counterpart: Matrix | null;
  /** The file each part came from. */
  files: Record<string, string>;
}

/**
 * Read a float matrix (rows, cols) from a `.npy` of float16, float32 or float64 (numpy's default
 * header, C order). float16 is what TAC's GPU runs save.
 */
export async function readFloatMatrix(path: string): Promise<Matrix> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SatcError(`cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  const half = float16Npy(bytes, path);
  const array = half ?? (await readNpy(path));
  if (array.shape.length !== 2) throw new SatcError(`${path}: expected a 2-D array (rows, dims), found shape (${array.shape.join(", ")})`, { file: path });
  const d = array.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array)) throw new SatcError(`${path}: expected float16, float32 or float64 values, found ${array.dtype}`, { file: path });
  const data = d instanceof Float32Array ? d : Float32Array.from(d);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new SatcError(`${path}: value ${i} (row ${Math.floor(i / array.shape[1])}) is ${data[i]}`, { file: path });
  }
  return { data, rows: array.shape[0], cols: array.shape[1] };
}

/** A little-endian float16 .npy decoded to float32, or null when the file is not float16. */
function float16Npy(bytes: Uint8Array, path: string): { data: Float32Array; shape: number[]; dtype: "float32" } | null {
  if (bytes.length < 12 || bytes[0] !== 0x93) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const text = new TextDecoder("latin1").decode(bytes.subarray(start, start + headerLength));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  if (descr !== "<f2" && descr !== "=f2" && descr !== "|f2") return null;
  if (/['"]fortran_order['"]\s*:\s*True/.test(text)) throw new SatcError(`${path}: Fortran-order arrays are not supported; save with np.ascontiguousarray`, { file: path });
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1] ?? "";
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => Number.parseInt(s, 10));
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset < count * 2) throw new SatcError(`${path}: truncated float16 data (needs ${count * 2} bytes, has ${bytes.length - offset})`, { file: path });
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
  return { data, shape, dtype: "float32" };
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

async function readIntVector(path: string): Promise<Int32Array> {
  if (path.endsWith(".txt")) {
    const lines = (await readFile(path, "utf8")).split(/\r?\n/).filter((l) => l.trim() !== "");
    return Int32Array.from(lines, (l, i) => {
      const v = Number(l.trim());
      if (!Number.isInteger(v)) throw new SatcError(`${path}: line ${i + 1} is not an integer label: '${l.trim()}'`, { file: path });
      return v;
    });
  }
  const a = await readNpy(path);
  if (a.shape.length !== 1) throw new SatcError(`${path}: expected a 1-D array of labels, found shape (${a.shape.join(", ")})`, { file: path });
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) throw new SatcError(`${path}: expected integer labels, found ${a.dtype}`, { file: path });
  return Int32Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** First column of a CSV (header row skipped; double quotes honoured). */
export function csvFirstColumn(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    if (line.startsWith('"')) {
      let j = 1;
      let v = "";
      while (j < line.length) {
        if (line[j] === '"' && line[j + 1] === '"') { v += '"'; j += 2; }
        else if (line[j] === '"') break;
        else v += line[j++];
      }
      out.push(v);
    } else {
      const comma = line.indexOf(",");
      out.push(comma < 0 ? line : line.slice(0, comma));
    }
  }
  return out;
}

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8");
  const all = text.split(/\r?\n/);
  if (all.at(-1) === "") all.pop();
  return all;
}

/**
 * Load the text view's precomputed embeddings from `dir` (see the module comment for the two
 * layouts). In TAC's layout with several datasets in one folder, `dataset` picks one.
 */
export async function loadTextFeatures(dir: string, options: { dataset?: string } = {}): Promise<TextFeatures> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new SatcError(`cannot read the features folder ${dir}: ${(err as Error).message}`, { file: dir, cause: err });
  }
  const has = (f: string) => names.includes(f);
  const files: Record<string, string> = {};
  let result: Omit<TextFeatures, "files">;
  if (has("images.npy")) {
    if (!has("nouns.npy")) throw new SatcError(`${dir}: images.npy needs nouns.npy (the noun-bank embeddings) beside it`, { file: dir });
    files.images = join(dir, "images.npy");
    files.nouns = join(dir, "nouns.npy");
    const images = await readFloatMatrix(files.images);
    const nouns = await readFloatMatrix(files.nouns);
    let lemmas: string[] | null = null;
    if (has("nouns.txt")) lemmas = await lines((files.lemmas = join(dir, "nouns.txt")));
    const labels = has("labels.npy") ? await readIntVector((files.labels = join(dir, "labels.npy"))) : null;
    result = { layout: "satc", dataset: null, images, nouns, lemmas, labels, imageClusters: null, counterpart: null };
  } else {
    const datasets = names.map((f) => /^(.+)_image_embedding_train\.npy$/.exec(f)?.[1]).filter((d): d is string => d !== undefined).sort();
    if (datasets.length === 0) {
      throw new SatcError(`${dir}: no precomputed features found; expected images.npy + nouns.npy (satc) or <dataset>_image_embedding_train.npy + nouns_embedding_ensemble.npy (TAC)`, { file: dir });
    }
    const dataset = options.dataset ?? (datasets.length === 1 ? datasets[0] : undefined);
    if (dataset === undefined || !datasets.includes(dataset)) {
      throw new UsageError(`${dir} holds TAC features of ${datasets.map((d) => `'${d}'`).join(", ")}; ${options.dataset === undefined ? "say which" : `not '${options.dataset}'`} (dataset option)`);
    }
    if (!has("nouns_embedding_ensemble.npy")) throw new SatcError(`${dir}: TAC's noun bank nouns_embedding_ensemble.npy is missing (run TAC's text_embedding.py, or satc nouns build)`, { file: dir });
    files.images = join(dir, `${dataset}_image_embedding_train.npy`);
    files.nouns = join(dir, "nouns_embedding_ensemble.npy");
    const images = await readFloatMatrix(files.images);
    const nouns = await readFloatMatrix(files.nouns);
    let lemmas: string[] | null = null;
    if (has("WordNetNouns.csv")) lemmas = csvFirstColumn(await readFile((files.lemmas = join(dir, "WordNetNouns.csv")), "utf8"));
    const labels = has(`${dataset}_labels_train.txt`) ? await readIntVector((files.labels = join(dir, `${dataset}_labels_train.txt`))) : null;
    let imageClusters: TextFeatures["imageClusters"] = null;
    const cached = names.map((f) => new RegExp(`^${dataset.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}_image_(\\d+)cluster\\.npy$`).exec(f)).find((m) => m !== null);
    if (cached) imageClusters = { labels: await readIntVector((files.imageClusters = join(dir, cached[0]))), k: Number(cached[1]) };
    const retrieved = `${dataset}_retrieved_nouns_embedding.npy`;
    const counterpart = has(retrieved) ? await readFloatMatrix((files.counterpart = join(dir, retrieved))) : null;
    result = { layout: "tac", dataset, images, nouns, lemmas, labels, imageClusters, counterpart };
  }
  const n = result.images.rows;
  const check = (what: string, count: number, expectedCount: number, file: string) => {
    if (count !== expectedCount) throw new SatcError(`${file}: ${count} ${what}, expected ${expectedCount}`, { file });
  };
  if (result.nouns.cols !== result.images.cols) {
    throw new SatcError(`${files.nouns}: noun embeddings have ${result.nouns.cols} dimensions but the image embeddings ${result.images.cols}; they must come from the same CLIP model`, { file: files.nouns });
  }
  if (result.lemmas) check("lemmas", result.lemmas.length, result.nouns.rows, files.lemmas);
  if (result.labels) check("labels", result.labels.length, n, files.labels);
  if (result.imageClusters) {
    check("cluster labels", result.imageClusters.labels.length, n, files.imageClusters);
    const k = result.imageClusters.k;
    if (result.imageClusters.labels.some((v) => v < 0 || v >= k)) throw new SatcError(`${files.imageClusters}: cluster labels outside [0, ${k})`, { file: files.imageClusters });
  }
  if (result.counterpart) {
    check("rows", result.counterpart.rows, n, files.counterpart);
    check("dimensions", result.counterpart.cols, result.images.cols, files.counterpart);
  }
  return { ...result, files };
}
