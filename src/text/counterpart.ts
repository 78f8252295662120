/**
 * The text counterpart of every image (DESIGN 1.1 steps 2-4, as TAC's filter_nouns.py and
 * retrieve_text.py build it):
 *
 * 1. spherical k-means of the unit image embeddings into K1 = ceil(N / 300) clusters; a centre is
 *    the normalised mean of its members;
 * 2. similarity centres x nouns; for each noun a softmax over the centres (no temperature); the
 *    noun goes to its most probable centre with that probability as its confidence; each centre
 *    keeps its 5 most confident nouns; their union is the selected noun set;
 * 3. for each image, weights = softmax(cos(image, selected) / 0.005) and
 *    z_textual = normalise(weights x selected noun embeddings).
 *
 * Both products run block by block in onnxruntime-node (one GEMM + Softmax graph each). ONNX's
 * Softmax subtracts the row maximum before exponentiating, so logits up to 1 / 0.005 = 200 (where
 * exp overflows float32 at 88.7) stay finite; a test checks this against a float64 numpy reference.
 *
 * Differences from TAC: float32 throughout (TAC: float16 on the GPU); a centre whose cluster is
 * empty (only possible with `imageLabels` given) takes no part in the softmax (TAC's would be NaN).
 */
import { UsageError, expected } from "../errors.js";
import { kmeans } from "../clustering/kmeans.js";
import type { ModelSpec } from "../onnx/graph.js";
import { createSession, tensor } from "../onnx/session.js";
import { normalizeRows, type Matrix } from "../util/matrix.js";

/** TAC's numbers. */
export const TAC_COUNTERPART = Object.freeze({
  /** One image centre per this many images, rounded up (167 for 50,000). */
  imagesPerCenter: 300,
  /** Nouns kept per centre. */
  nounsPerCenter: 5,
  /** Retrieval temperature. */
  temperature: 0.005,
});

export interface CounterpartProgress {
  stage: "counterpart";
  phase: "kmeans" | "select" | "retrieve";
  /** Rows done and total in this phase (k-means: Lloyd iterations of the current restart). */
  done: number;
  total: number;
}

export interface CounterpartOptions {
  /** Number of image centres K1; default ceil(nImages / 300). */
  centers?: number;
  /** Image cluster of each image (nImages), values in [0, centers): skips the k-means (e.g. TAC's cached clustering). */
  imageLabels?: Int32Array;
  /** Nouns kept per centre; default 5. */
  nounsPerCenter?: number;
  /** Retrieval temperature; default 0.005. */
  temperature?: number;
  /** k-means seed (default 0), restarts (default 10, as TAC's faiss nredo) and iterations (default 300). */
  seed?: number;
  nInit?: number;
  maxIter?: number;
  /** Rows per onnxruntime block; default 4096. */
  blockSize?: number;
  threads?: number;
  onProgress?: (event: CounterpartProgress) => void;
}

export interface NounSelection {
  /** Indices of the selected nouns into the noun bank, ascending (nSelected). */
  selected: Int32Array;
  /** Centre each selected noun went to (nSelected). */
  center: Int32Array;
  /** Its softmax probability for that centre (nSelected). */
  confidence: Float32Array;
}

export interface TextCounterpart extends NounSelection {
  /** z_textual, unit rows (nImages, dim). */
  embeddings: Matrix;
  /** Image cluster of each image used for the centres (nImages). */
  imageLabels: Int32Array;
  /** K1. */
  centers: number;
  nounsPerCenter: number;
  temperature: number;
  /** Soft problems, with numbers (empty centres, centres that got no noun, k-means warnings). */
  warnings: string[];
}

/**
 * Text counterpart of `images` (nImages, dim), raw or unit rows, from the noun bank `nouns`
 * (nNouns, dim), raw or unit rows. Inputs are not modified.
 */
export async function buildTextCounterpart(images: Matrix, nouns: Matrix, options: CounterpartOptions = {}): Promise<TextCounterpart> {
  const n = images.rows;
  if (n < 1) throw new UsageError("text counterpart: no images");
  if (nouns.rows < 1) throw new UsageError("text counterpart: the noun bank is empty");
  if (nouns.cols !== images.cols) {
    throw new UsageError(`text counterpart: image embeddings have ${images.cols} dimensions but noun embeddings have ${nouns.cols}; they must come from the same CLIP model`);
  }
  const k = options.centers ?? Math.ceil(n / TAC_COUNTERPART.imagesPerCenter);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new UsageError(expected(`an integer in [1, nImages=${n}]`, "centers", k));
  const perCenter = options.nounsPerCenter ?? TAC_COUNTERPART.nounsPerCenter;
  if (!Number.isInteger(perCenter) || perCenter < 1) throw new UsageError(expected("an integer >= 1", "nounsPerCenter", perCenter));
  const temperature = options.temperature ?? TAC_COUNTERPART.temperature;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new UsageError(expected("a finite number > 0", "temperature", temperature));
  const blockSize = options.blockSize ?? 4096;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new UsageError(expected("an integer >= 1", "blockSize", blockSize));

  const unitImages = normalizeRows({ data: images.data.slice(), rows: n, cols: images.cols });
  const unitNouns = normalizeRows({ data: nouns.data.slice(), rows: nouns.rows, cols: nouns.cols });
  const warnings: string[] = [];

  let labels: Int32Array;
  if (options.imageLabels !== undefined) {
    labels = options.imageLabels;
    if (labels.length !== n) throw new UsageError(`text counterpart: imageLabels has ${labels.length} entries, expected nImages=${n}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= k) {
        throw new UsageError(`text counterpart: imageLabels[${i}]=${labels[i]} is outside [0, centers=${k})`);
      }
    }
  } else {
    const progress = options.onProgress;
    const fit = await kmeans(unitImages, k, {
      metric: "cosine",
      seed: options.seed ?? 0,
      nInit: options.nInit ?? 10,
      maxIter: options.maxIter ?? 300,
      threads: options.threads,
      onProgress: progress && ((e) => progress({ stage: "counterpart", phase: "kmeans", done: e.iteration, total: options.maxIter ?? 300 })),
    });
    labels = fit.labels;
    warnings.push(...fit.warnings.map((w) => `image k-means: ${w}`));
  }

  const { centers, empty } = imageCenters(unitImages, labels, k);
  if (empty.length > 0) warnings.push(`${empty.length} of ${k} image centres have no images and take no part in the noun selection (centres ${empty.slice(0, 10).join(", ")}${empty.length > 10 ? ", ..." : ""})`);
  const selection = await selectNouns(centers, unitNouns, { nounsPerCenter: perCenter, exclude: empty, blockSize, threads: options.threads, onProgress: options.onProgress });
  const withNouns = new Set(selection.center).size;
  if (withNouns < k - empty.length) warnings.push(`only ${withNouns} of ${k - empty.length} image centres are the most probable centre of any noun`);
  const embeddings = await retrieveCounterpart(unitImages, unitNouns, selection.selected, { temperature, blockSize, threads: options.threads, onProgress: options.onProgress });
  return { ...selection, embeddings, imageLabels: labels, centers: k, nounsPerCenter: perCenter, temperature, warnings };
}

/**
 * Centre of each image cluster: the normalised mean of its unit members, (k, dim). Clusters with
 * no member get a zero row and are listed in `empty`.
 */
export function imageCenters(unitImages: Matrix, labels: Int32Array, k: number): { centers: Matrix; empty: number[] } {
  const d = unitImages.cols;
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let i = 0; i < unitImages.rows; i++) {
    const c = labels[i];
    counts[c]++;
    const o = i * d;
    const s = c * d;
    for (let j = 0; j < d; j++) sums[s + j] += unitImages.data[o + j];
  }
  const centers = normalizeRows({ data: Float32Array.from(sums), rows: k, cols: d });
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
  return { centers, empty };
}

/** Noun selection graph: nouns (b, d) x centres (k, d) -> softmax over centres -> max and argmax. */
function selectGraph(d: number): ModelSpec {
  return {
    name: "satc_select_nouns",
    inputs: [
      { name: "nouns", type: "float", shape: ["b", d] },
      { name: "centers", type: "float", shape: ["k", d] },
      { name: "bias", type: "float", shape: ["k"] },
    ],
    outputs: [
      { name: "confidence", type: "float", shape: ["b"] },
      { name: "center", type: "int64", shape: ["b"] },
    ],
    nodes: [
      { op: "Gemm", inputs: ["nouns", "centers", "bias"], outputs: ["sim"], attributes: { transB: 1 } },
      { op: "Softmax", inputs: ["sim"], outputs: ["prob"], attributes: { axis: 1 } },
      { op: "ReduceMax", inputs: ["prob"], outputs: ["confidence"], attributes: { axes: [1], keepdims: 0 } },
      { op: "ArgMax", inputs: ["sim"], outputs: ["center"], attributes: { axis: 1, keepdims: 0 } },
    ],
  };
}

/**
 * TAC's noun selection: each noun (row of unitNouns, (nNouns, d)) goes to the centre (row of
 * centers, (k, d)) of highest softmax probability over the centres; each centre keeps its
 * `nounsPerCenter` most confident nouns (ties: lower noun index first). Centres in `exclude`
 * take no part. Returns the union, ascending by noun index.
 */
export async function selectNouns(
  centers: Matrix,
  unitNouns: Matrix,
  options: { nounsPerCenter?: number; exclude?: readonly number[]; blockSize?: number; threads?: number; onProgress?: (e: CounterpartProgress) => void } = {},
): Promise<NounSelection> {
  const k = centers.rows;
  const d = centers.cols;
  const m = unitNouns.rows;
  const perCenter = options.nounsPerCenter ?? TAC_COUNTERPART.nounsPerCenter;
  const blockSize = options.blockSize ?? 4096;
  // An excluded centre gets a bias of -inf, so its probability is 0 for every noun.
  const bias = new Float32Array(k);
  for (const c of options.exclude ?? []) bias[c] = -Infinity;
  if ((options.exclude ?? []).length >= k) throw new UsageError("text counterpart: every image centre is excluded");

  // Per centre, its best nouns so far: sorted by confidence descending, then index ascending.
  const best: { index: number; confidence: number }[][] = Array.from({ length: k }, () => []);
  const session = await createSession(selectGraph(d), { threads: options.threads });
  try {
    const centersT = tensor(centers.data, [k, d]);
    const biasT = tensor(bias, [k]);
    for (let start = 0; start < m; start += blockSize) {
      const end = Math.min(m, start + blockSize);
      const r = await session.run({ nouns: tensor(unitNouns.data.subarray(start * d, end * d), [end - start, d]), centers: centersT, bias: biasT });
      const conf = r.confidence.data as Float32Array;
      const arg = r.center.data as BigInt64Array;
      for (let b = 0; b < end - start; b++) {
        const list = best[Number(arg[b])];
        const c = conf[b];
        if (list.length === perCenter && !(c > list[perCenter - 1].confidence)) continue;
        let pos = list.length;
        while (pos > 0 && c > list[pos - 1].confidence) pos--;
        list.splice(pos, 0, { index: start + b, confidence: c });
        if (list.length > perCenter) list.pop();
      }
      options.onProgress?.({ stage: "counterpart", phase: "select", done: end, total: m });
    }
  } finally {
    await session.release();
  }
  const chosen = best.flatMap((list, c) => list.map((e) => ({ ...e, c }))).sort((a, b) => a.index - b.index);
  return {
    selected: Int32Array.from(chosen, (e) => e.index),
    center: Int32Array.from(chosen, (e) => e.c),
    confidence: Float32Array.from(chosen, (e) => e.confidence),
  };
}

/** Retrieval graph: images (b, d), selected (s, d) -> normalise(softmax(images selected^T / T) selected). */
function retrieveGraph(d: number, temperature: number): ModelSpec {
  return {
    name: "satc_retrieve_text",
    inputs: [
      { name: "images", type: "float", shape: ["b", d] },
      { name: "selected", type: "float", shape: ["s", d] },
    ],
    outputs: [{ name: "text", type: "float", shape: ["b", d] }],
    nodes: [
      { op: "Gemm", inputs: ["images", "selected"], outputs: ["logits"], attributes: { transB: 1, alpha: { float: 1 / temperature } } },
      { op: "Softmax", inputs: ["logits"], outputs: ["weights"], attributes: { axis: 1 } },
      { op: "MatMul", inputs: ["weights", "selected"], outputs: ["mixed"] },
      { op: "LpNormalization", inputs: ["mixed"], outputs: ["text"], attributes: { axis: 1, p: 2 } },
    ],
  };
}

/**
 * Soft retrieval: for each unit image row (nImages, d), softmax(cos with the selected unit noun
 * rows / temperature) weights the selected nouns; the weighted sum, normalised, is its text
 * counterpart (nImages, d). `selected` indexes rows of unitNouns (nNouns, d).
 */
export async function retrieveCounterpart(
  unitImages: Matrix,
  unitNouns: Matrix,
  selected: Int32Array,
  options: { temperature?: number; blockSize?: number; threads?: number; onProgress?: (e: CounterpartProgress) => void } = {},
): Promise<Matrix> {
  const d = unitImages.cols;
  const n = unitImages.rows;
  const temperature = options.temperature ?? TAC_COUNTERPART.temperature;
  const blockSize = options.blockSize ?? 4096;
  if (selected.length === 0) throw new UsageError("text counterpart: no nouns selected");
  const sel = new Float32Array(selected.length * d);
  for (let s = 0; s < selected.length; s++) sel.set(unitNouns.data.subarray(selected[s] * d, (selected[s] + 1) * d), s * d);
  const out = new Float32Array(n * d);
  const session = await createSession(retrieveGraph(d, temperature), { threads: options.threads });
  try {
    const selT = tensor(sel, [selected.length, d]);
    for (let start = 0; start < n; start += blockSize) {
      const end = Math.min(n, start + blockSize);
      const r = await session.run({ images: tensor(unitImages.data.subarray(start * d, end * d), [end - start, d]), selected: selT });
      out.set(r.text.data as Float32Array, start * d);
      options.onProgress?.({ stage: "counterpart", phase: "retrieve", done: end, total: n });
    }
  } finally {
    await session.release();
  }
  return { data: out, rows: n, cols: d };
}
