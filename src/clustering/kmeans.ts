/**
 * k-means, Euclidean or spherical (cosine), with greedy k-means++ initialisation and restarts.
 *
 * Follows scikit-learn's `KMeans` (lloyd): options are validated once here at the public entry,
 * one seeded generator per fit is shared by every restart, the restart with the lowest inertia
 * wins, convergence is "labels unchanged" or "total squared centre shift <= tol * mean feature
 * variance". Differences: the heavy math runs in onnxruntime-node (see `lloydGraph`), and an
 * emptied cluster is re-seeded at the point farthest from its centre *and recorded as a warning*.
 *
 * Spherical mode (`metric: "cosine"`): rows and centres are unit-normalised, each row goes to the
 * centre of largest cosine, a centre is the normalised mean of its members. Its inertia is the sum
 * of squared Euclidean distances between unit rows and unit centres, i.e. sum of (2 - 2 cos).
 */
import { SatcError, UsageError, expected } from "../errors.js";
import type { ModelSpec } from "../onnx/graph.js";
import { createSession, ort, tensor } from "../onnx/session.js";
import type { Matrix } from "../util/matrix.js";
import { Random } from "../util/random.js";

export type KMeansMetric = "euclidean" | "cosine";

export interface KMeansProgress {
  stage: "kmeans";
  /** 0-based restart index, and the number of restarts. */
  restart: number;
  nInit: number;
  /** 1-based Lloyd iteration within the restart. */
  iteration: number;
  /** Rows that changed cluster in this iteration (all rows in the first). */
  moved: number;
}

export interface KMeansOptions {
  /** "euclidean" (default) or "cosine" (spherical k-means). */
  metric?: KMeansMetric;
  /** Restarts; the one with the lowest inertia is kept. Default 10 (1 when `init` is given). */
  nInit?: number;
  /** Lloyd iterations per restart. Default 300. */
  maxIter?: number;
  /** Stop when the total squared centre shift <= tol * mean feature variance. Default 1e-4. */
  tol?: number;
  /** Seed of the generator used for every restart. Default 0. Ignored when `random` is given. */
  seed?: number;
  /** The generator to draw from (shared by every restart). */
  random?: Random;
  /** Explicit initial centres, shape (k, nFeatures), instead of k-means++ (one restart). */
  init?: Matrix;
  /** onnxruntime intra-op threads; default all cores. */
  threads?: number;
  onProgress?: (event: KMeansProgress) => void;
}

export interface KMeansRestart {
  inertia: number;
  iterations: number;
}

export interface KMeansResult {
  /** (k, nFeatures); unit rows in cosine mode. */
  centers: Matrix;
  /** Cluster of each row, (nSamples). */
  labels: Int32Array;
  /** Sum of squared distances of rows (unit rows in cosine mode) to their centres. */
  inertia: number;
  /** Lloyd iterations of the kept restart. */
  iterations: number;
  /** One entry per restart, in order. */
  restarts: KMeansRestart[];
  /** Soft problems, with numbers: emptied clusters re-seeded, fewer distinct clusters than k. */
  warnings: string[];
}

const METRICS: readonly KMeansMetric[] = ["euclidean", "cosine"];
const MAX_WARNINGS = 50;

/**
 * Cluster the rows of `x`, shape (nSamples, nFeatures), into `k` clusters.
 * Throws UsageError for bad options (k < 1, k > nSamples, unknown metric) and SatcError for
 * non-finite values in `x`.
 */
export async function kmeans(x: Matrix, k: number, options: KMeansOptions = {}): Promise<KMeansResult> {
  const metric = checkMetric(options.metric ?? "euclidean");
  const n = x.rows;
  const d = x.cols;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(expected("an integer >= 1", "k", k));
  if (k > n) throw new UsageError(`k-means: nSamples=${n} should be >= k=${k}`);
  if (d < 1) throw new UsageError(`k-means: nFeatures=${d} should be >= 1`);
  const init = options.init;
  if (init !== undefined && (init.rows !== k || init.cols !== d)) {
    throw new UsageError(`k-means: init has shape (${init.rows}, ${init.cols}), expected (k, nFeatures) = (${k}, ${d})`);
  }
  const nInit = init !== undefined ? 1 : options.nInit ?? 10;
  if (!Number.isInteger(nInit) || nInit < 1) throw new UsageError(expected("an integer >= 1", "nInit", nInit));
  const maxIter = options.maxIter ?? 300;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new UsageError(expected("an integer >= 1", "maxIter", maxIter));
  const tol = options.tol ?? 1e-4;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new UsageError(expected("a finite number >= 0", "tol", tol));
  checkFinite(x, "k-means input");
  if (init !== undefined) checkFinite(init, "k-means init");

  // Working copy: unit rows (cosine) or rows minus the column mean (euclidean; as scikit-learn,
  // it keeps ||x||^2 - 2 x.c + ||c||^2 accurate in float32). The mean is added back at the end.
  const data = new Float32Array(x.data);
  let mean: Float64Array | null = null;
  if (metric === "cosine") normalizeRowsInPlace(data, n, d);
  else {
    mean = columnMean(data, n, d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) data[o + j] -= mean[j];
    }
  }
  const xx = rowSquaredNorms(data, n, d);
  const absTol = tol * meanVariance(data, n, d);

  const random = options.random ?? new Random(options.seed ?? 0);
  const sessions = await getSessions(options.threads);
  const fit: Fit = { data, xx, n, d, k, metric, sessions, maxIter, absTol, warnings: [], warningsDropped: 0 };

  let best: RestartResult | null = null;
  const restarts: KMeansRestart[] = [];
  for (let r = 0; r < nInit; r++) {
    let centers: Float32Array;
    if (init !== undefined) {
      centers = new Float32Array(init.data);
      if (metric === "cosine") normalizeRowsInPlace(centers, k, d);
      else for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centers[c * d + j] -= mean![j];
    } else {
      centers = await kmeansPlusPlus(fit, random);
    }
    const result = await lloyd(fit, centers, r, nInit, options.onProgress);
    restarts.push({ inertia: result.inertia, iterations: result.iterations });
    // Strictly lower, as scikit-learn: ties keep the earlier restart.
    if (best === null || result.inertia < best.inertia) best = result;
  }
  const kept = best!;

  const distinct = new Set(kept.labels).size;
  if (distinct < k) {
    addWarning(fit, `only ${distinct} distinct clusters found for k=${k}; the data may hold fewer than k distinct points`);
  }
  if (fit.warningsDropped > 0) fit.warnings.push(`... and ${fit.warningsDropped} more warnings`);
  if (mean !== null) {
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) kept.centers[c * d + j] += mean[j];
  }
  return {
    centers: { data: kept.centers, rows: k, cols: d },
    labels: kept.labels,
    inertia: kept.inertia,
    iterations: kept.iterations,
    restarts,
    warnings: fit.warnings,
  };
}

/**
 * Assign each row of `x`, shape (nSamples, nFeatures), to its nearest row of `centers`,
 * shape (k, nFeatures), e.g. to score a second dataset against centres learned by `kmeans`.
 * `distances` are squared Euclidean distances; in cosine mode between the unit-normalised row and
 * unit-normalised centre (= 2 - 2 cos), so that for the training data their sum is the inertia.
 * `secondDistances` are the same to the second-nearest centre (Infinity when k = 1).
 */
export async function assignToCenters(
  x: Matrix,
  centers: Matrix,
  metric: KMeansMetric = "euclidean",
  options: { threads?: number } = {},
): Promise<{ labels: Int32Array; distances: Float32Array; secondDistances: Float32Array }> {
  checkMetric(metric);
  if (centers.rows < 1) throw new UsageError(`assignToCenters: centers has ${centers.rows} rows, expected >= 1`);
  if (centers.cols !== x.cols) {
    throw new UsageError(`assignToCenters: x has ${x.cols} features but centers have ${centers.cols}`);
  }
  checkFinite(x, "assignToCenters input");
  checkFinite(centers, "assignToCenters centers");
  const n = x.rows;
  const d = x.cols;
  const k = centers.rows;
  let data = x.data;
  let c = centers.data;
  if (metric === "cosine") {
    data = normalizeRowsInPlace(new Float32Array(data), n, d);
    c = normalizeRowsInPlace(new Float32Array(c), k, d);
  }
  if (n === 0) return { labels: new Int32Array(0), distances: new Float32Array(0), secondDistances: new Float32Array(0) };
  const sessions = await getSessions(options.threads);
  const xx = rowSquaredNorms(data, n, d);
  const step = await runAssign(sessions, data, xx, n, d, c, k);
  const secondDistances = Float32Array.from(step.secondDist, (v) => (v > 0 ? v : 0));
  return { labels: step.labels, distances: step.minDist, secondDistances };
}

// ---------------------------------------------------------------------------------------------
// Internals. Everything below assumes validated input.

interface Sessions {
  /** (X (n,d), C (m,d)) -> P (n,m) = -2 X C^T + ||c||^2. */
  distances: ort.InferenceSession;
  /** (X, C, t=[min(2,k)]) -> the t smallest values of -2 X C^T + ||c||^2 per row, and their columns. */
  assign: ort.InferenceSession;
  /** (X, labels, depth=[k]) -> sums (k,d), counts (k). */
  sums: ort.InferenceSession;
}

interface Fit {
  data: Float32Array;
  xx: Float32Array;
  n: number;
  d: number;
  k: number;
  metric: KMeansMetric;
  sessions: Sessions;
  maxIter: number;
  absTol: number;
  warnings: string[];
  warningsDropped: number;
}

interface RestartResult {
  centers: Float32Array;
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

interface Assignment {
  labels: Int32Array;
  /** Squared distance of each row to its assigned centre, clamped at 0. */
  minDist: Float32Array;
  /** Squared distance of each row to its second nearest centre (Infinity when k = 1). */
  secondDist: Float64Array;
}

/** Per-cluster sums of member rows (k, d) and member counts (k), matching one labelling. */
interface ClusterSums {
  sums: Float64Array;
  counts: Float64Array;
}

/**
 * The assignment half of a Lloyd step as an ONNX graph; shapes are symbolic, so one session serves
 * every fit. P = Gemm(X, C, cc; alpha=-2, transB) is the squared distance minus ||x||^2; TopK
 * (smallest `t` of each row, t = min(2, k)) gives the nearest centre and the two smallest values,
 * the second feeding the Hamerly lower bound.
 */
function assignGraph(): ModelSpec {
  return {
    name: "satc_kmeans_assign",
    inputs: [
      { name: "X", type: "float", shape: ["n", "d"] },
      { name: "C", type: "float", shape: ["k", "d"] },
      { name: "t", type: "int64", shape: [1] },
    ],
    outputs: [
      { name: "values", type: "float", shape: ["n", "t"] },
      { name: "indices", type: "int32", shape: ["n", "t"] },
    ],
    nodes: [
      { op: "ReduceSumSquare", inputs: ["C"], outputs: ["cc"], attributes: { axes: [1], keepdims: 0 } },
      { op: "Gemm", inputs: ["X", "C", "cc"], outputs: ["P"], attributes: { alpha: { float: -2 }, beta: { float: 1 }, transB: 1 } },
      { op: "TopK", inputs: ["P", "t"], outputs: ["values", "indices64"], attributes: { axis: 1, largest: 0, sorted: 1 } },
      { op: "Cast", inputs: ["indices64"], outputs: ["indices"], attributes: { to: 6 } },
    ],
  };
}

/** Per-cluster sums OneHot(labels)^T X, shape (k, d), and member counts (k). */
function sumsGraph(): ModelSpec {
  return {
    name: "satc_kmeans_sums",
    inputs: [
      { name: "X", type: "float", shape: ["n", "d"] },
      { name: "labels", type: "int32", shape: ["n"] },
      { name: "depth", type: "int64", shape: [1] },
    ],
    outputs: [
      { name: "sums", type: "float", shape: ["k", "d"] },
      { name: "counts", type: "float", shape: ["k"] },
    ],
    initializers: [
      { name: "axis0", type: "int64", dims: [1], data: new BigInt64Array([0n]) },
      { name: "onOff", type: "float", dims: [2], data: new Float32Array([0, 1]) },
    ],
    nodes: [
      // onnxruntime implements OneHot for int64 indices (not int32).
      { op: "Cast", inputs: ["labels"], outputs: ["labels64"], attributes: { to: 7 } },
      { op: "OneHot", inputs: ["labels64", "depth", "onOff"], outputs: ["onehot"], attributes: { axis: -1 } },
      { op: "Gemm", inputs: ["onehot", "X"], outputs: ["sums"], attributes: { transA: 1 } },
      { op: "ReduceSum", inputs: ["onehot", "axis0"], outputs: ["counts"], attributes: { keepdims: 0 } },
    ],
  };
}

function distancesGraph(): ModelSpec {
  return {
    name: "satc_kmeans_distances",
    inputs: [
      { name: "X", type: "float", shape: ["n", "d"] },
      { name: "C", type: "float", shape: ["m", "d"] },
    ],
    outputs: [{ name: "P", type: "float", shape: ["n", "m"] }],
    nodes: [
      { op: "ReduceSumSquare", inputs: ["C"], outputs: ["cc"], attributes: { axes: [1], keepdims: 0 } },
      { op: "Gemm", inputs: ["X", "C", "cc"], outputs: ["P"], attributes: { alpha: { float: -2 }, beta: { float: 1 }, transB: 1 } },
    ],
  };
}

const sessionCache = new Map<string, Promise<Sessions>>();

/** Sessions are built once per thread count and reused by every fit (their shapes are symbolic). */
function getSessions(threads: number | undefined): Promise<Sessions> {
  const key = String(threads ?? "default");
  let s = sessionCache.get(key);
  if (s === undefined) {
    s = (async () => ({
      distances: await createSession(distancesGraph(), { threads }),
      assign: await createSession(assignGraph(), { threads }),
      sums: await createSession(sumsGraph(), { threads }),
    }))();
    sessionCache.set(key, s);
    s.catch(() => sessionCache.delete(key));
  }
  return s;
}

/**
 * Nearest centre of each of the n rows of `data` (n, d): label, squared distance (clamped at 0) and
 * squared distance to the second nearest centre (Infinity when k = 1).
 */
async function runAssign(s: Sessions, data: Float32Array, xx: Float32Array, n: number, d: number, c: Float32Array, k: number): Promise<Assignment> {
  const t = Math.min(2, k);
  const out = await s.assign.run({ X: tensor(data, [n, d]), C: tensor(c, [k, d]), t: new ort.Tensor("int64", new BigInt64Array([BigInt(t)]), [1]) });
  const values = out.values.data as Float32Array;
  const indices = out.indices.data as Int32Array;
  const labels = new Int32Array(n);
  const minDist = new Float32Array(n);
  const secondDist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = indices[i * t];
    const v = values[i * t] + xx[i];
    minDist[i] = v > 0 ? v : 0;
    secondDist[i] = t === 2 ? values[i * t + 1] + xx[i] : Infinity;
  }
  return { labels, minDist, secondDist };
}

/** Cluster sums and counts of `labels`, in float64. */
async function clusterSums(fit: Fit, labels: Int32Array): Promise<ClusterSums> {
  const { data, n, d, k } = fit;
  const out = await fit.sessions.sums.run({
    X: tensor(data, [n, d]),
    labels: new ort.Tensor("int32", labels, [n]),
    depth: new ort.Tensor("int64", new BigInt64Array([BigInt(k)]), [1]),
  });
  return { sums: Float64Array.from(out.sums.data as Float32Array), counts: Float64Array.from(out.counts.data as Float32Array) };
}

/**
 * Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): first centre uniform, then at each step
 * 2 + floor(ln k) candidates drawn with probability proportional to the squared distance to the
 * nearest chosen centre, keeping the candidate that lowers the potential most.
 * Returns centres (k, d).
 */
async function kmeansPlusPlus(fit: Fit, random: Random): Promise<Float32Array> {
  const { data, xx, n, d, k } = fit;
  const centers = new Float32Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = random.int(n);
  centers.set(data.subarray(first * d, (first + 1) * d), 0);
  let closest = await distancesTo(fit, data.subarray(first * d, (first + 1) * d), 1);
  let potential = sum(closest);
  const cumulative = new Float64Array(n);
  const candidates = new Int32Array(trials);
  const candidateRows = new Float32Array(trials * d);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    for (let t = 0; t < trials; t++) {
      // searchsorted(left) of u * potential in the cumulative sum, clipped to n - 1.
      const target = random.next() * potential;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] < target) lo = mid + 1;
        else hi = mid;
      }
      candidates[t] = Math.min(lo, n - 1);
      candidateRows.set(data.subarray(candidates[t] * d, (candidates[t] + 1) * d), t * d);
    }
    const dist = await distancesTo(fit, candidateRows, trials);
    let bestT = 0;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      let p = 0;
      for (let i = 0; i < n; i++) {
        const v = dist[i * trials + t];
        p += v < closest[i] ? v : closest[i];
      }
      if (p < bestPotential) {
        bestPotential = p;
        bestT = t;
      }
    }
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = dist[i * trials + bestT];
      next[i] = v < closest[i] ? v : closest[i];
    }
    closest = next;
    potential = bestPotential;
    centers.set(candidateRows.subarray(bestT * d, (bestT + 1) * d), c * d);
  }
  return centers;
}

/** Squared distances (n, m) from every row to the m rows of `c`, clamped at 0. */
async function distancesTo(fit: Fit, c: Float32Array, m: number): Promise<Float64Array> {
  const { data, xx, n, d } = fit;
  const out = await fit.sessions.distances.run({ X: tensor(data, [n, d]), C: tensor(c.slice(0, m * d), [m, d]) });
  const p = out.P.data as Float32Array;
  const dist = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < m; t++) {
      const v = p[i * m + t] + xx[i];
      dist[i * m + t] = v > 0 ? v : 0;
    }
  }
  return dist;
}

/**
 * Lloyd iterations from `start` (k, d) until labels stop changing, the shift is <= tol, or maxIter.
 *
 * Hamerly's bounds skip the rows that cannot change cluster: for each row an upper bound on the
 * distance to its centre and a lower bound on the distance to any other centre, loosened by the
 * centre moves after every update. Only the remaining rows are gathered and assigned in ONNX
 * (all rows when more than a quarter remain). The cluster sums are kept in float64 and moved only for
 * the rows that changed cluster (a full ONNX recount when many changed). Results are the same as
 * plain Lloyd up to float ties.
 */
async function lloyd(
  fit: Fit,
  start: Float32Array,
  restart: number,
  nInit: number,
  onProgress: KMeansOptions["onProgress"],
): Promise<RestartResult> {
  const { data, xx, n, d, k, maxIter, absTol, sessions } = fit;
  let centers = start;
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const half = new Float64Array(k); // half the distance from each centre to its nearest other centre
  const delta = new Float64Array(k);
  let totals: ClusterSums | null = null;
  let gather: Float32Array | null = null;
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    // Rows whose bounds do not prove their label.
    let active: Int32Array | null = null;
    if (it > 0) {
      const list = new Int32Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const bound = lower[i] > half[labels[i]] ? lower[i] : half[labels[i]];
        if (upper[i] > bound) list[m++] = i;
      }
      active = list.subarray(0, m);
    }
    let step: Assignment;
    // Gathering rows costs about as much memory traffic as the GEMM itself: only worth it when few remain.
    if (active === null || active.length * 4 > n) {
      active = null;
      step = await runAssign(sessions, data, xx, n, d, centers, k);
    } else {
      const m = active.length;
      gather ??= new Float32Array(Math.ceil(n / 4) * d);
      const gxx = new Float32Array(m);
      for (let r = 0; r < m; r++) {
        const i = active[r];
        gather.set(data.subarray(i * d, (i + 1) * d), r * d);
        gxx[r] = xx[i];
      }
      step = m === 0 ? emptyAssignment() : await runAssign(sessions, gather.subarray(0, m * d), gxx, m, d, centers, k);
    }
    // Apply: exact bounds for the assigned rows, label moves into the running sums.
    const count = active === null ? n : active.length;
    const movedRows: number[] = [];
    const from: number[] = [];
    const maxCC = maxSquaredNorm(centers, k, d);
    for (let r = 0; r < count; r++) {
      const i = active === null ? r : active[r];
      // Float32 allowance: the GEMM form of a squared distance is off by about
      // eps32 * (||x||^2 + ||c||^2); widen the bounds by ~10x that so rounding never hides a move.
      const e = 1e-6 * (xx[i] + maxCC);
      upper[i] = Math.sqrt(step.minDist[r] + e);
      lower[i] = Math.sqrt(Math.max(step.secondDist[r] - e, 0));
      const label = step.labels[r];
      if (it > 0 && label !== labels[i]) {
        movedRows.push(i);
        from.push(labels[i]);
      }
      labels[i] = label;
    }
    const moved = it === 0 ? n : movedRows.length;
    onProgress?.({ stage: "kmeans", restart, nInit, iteration: iterations, moved });
    if (it > 0 && moved === 0) {
      // Labels are stable: the centres would not move. Strict convergence, as scikit-learn.
      break;
    }
    if (totals === null || moved * 8 > n) totals = await clusterSums(fit, labels);
    else moveRows(fit, totals, movedRows, from, labels);
    let full: Assignment | null = null;
    if (totals.counts.some((c) => c === 0)) {
      // An empty cluster is re-seeded at the farthest row: that needs every row's exact distance.
      full = await runAssign(sessions, data, xx, n, d, centers, k);
    }
    const next = updateCenters(fit, totals, full, centers, restart, iterations);
    let shift = 0;
    let maxDelta = 0;
    let maxAt = -1;
    let secondDelta = 0;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = c * d; j < (c + 1) * d; j++) {
        const t = next[j] - centers[j];
        s += t * t;
      }
      shift += s;
      delta[c] = Math.sqrt(s);
      if (delta[c] > maxDelta) {
        secondDelta = maxDelta;
        maxDelta = delta[c];
        maxAt = c;
      } else if (delta[c] > secondDelta) secondDelta = delta[c];
    }
    centers = next;
    if (shift <= absTol) break;
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      upper[i] += delta[c];
      lower[i] -= c === maxAt ? secondDelta : maxDelta;
    }
    halfCenterDistances(centers, k, d, half);
  }
  // Final exact assignment to the final centres: labels match the centres, and the inertia.
  const last = await runAssign(sessions, data, xx, n, d, centers, k);
  return { centers, labels: last.labels, inertia: sum(last.minDist), iterations };
}

function emptyAssignment(): Assignment {
  return { labels: new Int32Array(0), minDist: new Float32Array(0), secondDist: new Float64Array(0) };
}

function maxSquaredNorm(centers: Float32Array, k: number, d: number): number {
  let max = 0;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = c * d; j < (c + 1) * d; j++) s += centers[j] * centers[j];
    if (s > max) max = s;
  }
  return max;
}

/** half[c] = half the Euclidean distance from centre c to its nearest other centre (Infinity if k = 1). */
function halfCenterDistances(centers: Float32Array, k: number, d: number, half: Float64Array): void {
  half.fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = centers[a * d + j] - centers[b * d + j];
        s += t * t;
      }
      const h = Math.sqrt(s) / 2;
      if (h < half[a]) half[a] = h;
      if (h < half[b]) half[b] = h;
    }
  }
}

/** Move `rows` from their old clusters `from` to their new ones `to[row]` in the running sums. */
function moveRows(fit: Fit, totals: ClusterSums, rows: number[], from: number[], to: Int32Array): void {
  const { data, d } = fit;
  const { sums, counts } = totals;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    const a = from[r];
    const b = to[i];
    const o = i * d;
    const oa = a * d;
    const ob = b * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j];
      sums[oa + j] -= v;
      sums[ob + j] += v;
    }
    counts[a] -= 1;
    counts[b] += 1;
  }
}

/**
 * New centres from the cluster sums and counts of the step's labels. An empty cluster takes the
 * row farthest from its own centre (not taken by another empty cluster), which leaves its old
 * cluster, as scikit-learn's `_relocate_empty_clusters` (on a copy: `totals` keeps matching the
 * labels). A centre whose cluster still ends empty keeps its old value, so no centre is ever NaN.
 */
function updateCenters(fit: Fit, totals: ClusterSums, step: Assignment | null, old: Float32Array, restart: number, iteration: number): Float32Array {
  const { data, d, k, metric } = fit;
  let { sums, counts } = totals;
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
  if (empty.length > 0 && step !== null) {
    sums = Float64Array.from(sums);
    counts = Float64Array.from(counts);
    const order = farthestRows(step.minDist, empty.length);
    for (let e = 0; e < empty.length; e++) {
      const c = empty[e];
      const i = order[e];
      const from = step.labels[i];
      for (let j = 0; j < d; j++) {
        const v = data[i * d + j];
        sums[from * d + j] -= v;
        sums[c * d + j] = v;
      }
      counts[from] -= 1;
      counts[c] = 1;
      addWarning(
        fit,
        `cluster ${c} emptied at iteration ${iteration} of restart ${restart}; re-seeded at row ${i} ` +
          `(squared distance ${step.minDist[i].toPrecision(4)} to its centre)`,
      );
    }
  }
  const next = new Float32Array(k * d);
  for (let c = 0; c < k; c++) {
    const o = c * d;
    if (counts[c] <= 0) {
      next.set(old.subarray(o, o + d), o);
      continue;
    }
    if (metric === "cosine") {
      let s = 0;
      for (let j = 0; j < d; j++) s += sums[o + j] * sums[o + j];
      if (!(s > 0)) {
        next.set(old.subarray(o, o + d), o);
        continue;
      }
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) next[o + j] = sums[o + j] * inv;
    } else {
      const inv = 1 / counts[c];
      for (let j = 0; j < d; j++) next[o + j] = sums[o + j] * inv;
    }
  }
  return next;
}

/** Indices of the m largest values, largest first (ties: lower index first). */
function farthestRows(dist: Float32Array, m: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < dist.length; i++) {
    if (top.length === m && dist[i] <= dist[top[m - 1]]) continue;
    let p = top.length === m ? m - 1 : top.length;
    if (top.length < m) top.push(i);
    while (p > 0 && dist[top[p - 1]] < dist[i]) {
      top[p] = top[p - 1];
      p--;
    }
    top[p] = i;
  }
  return top;
}

function addWarning(fit: Fit, message: string): void {
  if (fit.warnings.length < MAX_WARNINGS) fit.warnings.push(message);
  else fit.warningsDropped++;
}

function checkMetric(metric: unknown): KMeansMetric {
  if (!METRICS.includes(metric as KMeansMetric)) {
    throw new UsageError(expected(METRICS.map((m) => `'${m}'`).join(" or "), "metric", metric));
  }
  return metric as KMeansMetric;
}

function checkFinite(m: Matrix, what: string): void {
  const a = m.data;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      const r = Math.floor(i / m.cols);
      throw new SatcError(`${what}: value ${a[i]} at row ${r}, column ${i - r * m.cols} is not finite`);
    }
  }
}

function normalizeRowsInPlace(a: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += a[o + j] * a[o + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) a[o + j] *= inv;
    }
  }
  return a;
}

function rowSquaredNorms(a: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += a[o + j] * a[o + j];
    out[i] = s;
  }
  return out;
}

function columnMean(a: Float32Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) m[j] += a[o + j];
  }
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

/** Mean over features of the (population) variance of each feature, as scikit-learn's `_tolerance`. */
function meanVariance(a: Float32Array, n: number, d: number): number {
  const mean = columnMean(a, n, d);
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = a[o + j] - mean[j];
      v[j] += t * t;
    }
  }
  let s = 0;
  for (let j = 0; j < d; j++) s += v[j] / n;
  return s / d;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function equalLabels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
