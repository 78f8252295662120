/**
 * Clustering scores against ground-truth classes: ACC (best one-to-one matching of clusters to
 * classes, Hungarian over the full contingency table), NMI (arithmetic-mean normalisation, as
 * scikit-learn's default `normalized_mutual_info_score`) and ARI. Formulas and edge cases follow
 * scikit-learn 1.2 (sklearn/metrics/cluster/_supervised.py) so values agree to ~1e-15.
 *
 * Labels are any integers (Int32Array or number arrays). Rows of the contingency table are the
 * classes, columns the clusters, each in ascending order of label value, as scikit-learn's
 * `contingency_matrix`.
 */
import { UsageError } from "../errors.js";
import type { Dataset } from "../input/dataset.js";
import { linearSumAssignment } from "./hungarian.js";

export type Labels = ArrayLike<number>;

export interface ContingencyOptions {
  /** Class labels are 0..nClasses-1; classes with no item still get a (zero) row. */
  nClasses?: number;
  /** Cluster labels are 0..nClusters-1; empty clusters still get a (zero) column. */
  nClusters?: number;
}

export interface ContingencyTable {
  /** Label value of each row, ascending. */
  classes: Int32Array;
  /** Label value of each column, ascending. */
  clusters: Int32Array;
  /** Row-major (classes.length, clusters.length): counts[r * nClusters + c] items of class r in cluster c. */
  counts: Int32Array;
  /** Number of items. */
  n: number;
}

export interface ClusteringScores {
  /** Fraction of items whose cluster is matched to their class, in [0, 1]. */
  acc: number;
  /** Normalised mutual information (arithmetic mean of the entropies), in [0, 1]. */
  nmi: number;
  /** Adjusted Rand index, in [-0.5, 1]. */
  ari: number;
  n: number;
  contingency: ContingencyTable;
  /**
   * The ACC matching: for column c of the contingency table (cluster `contingency.clusters[c]`),
   * the row of its matched class (class `contingency.classes[row]`), or -1 when the cluster is
   * unmatched (more clusters than classes). With labels 0..K-1 and nClasses/nClusters given,
   * rows and columns are the label values themselves.
   */
  clusterToClass: Int32Array;
}

/** Counts of (class, cluster) pairs; see ContingencyTable. */
export function contingencyTable(yTrue: Labels, yPred: Labels, options: ContingencyOptions = {}): ContingencyTable {
  checkPair(yTrue, yPred);
  const n = yTrue.length;
  const classes = labelValues(yTrue, options.nClasses, "nClasses", "yTrue");
  const clusters = labelValues(yPred, options.nClusters, "nClusters", "yPred");
  const rowOf = indexOf(classes);
  const colOf = indexOf(clusters);
  const nc = clusters.length;
  const counts = new Int32Array(classes.length * nc);
  for (let i = 0; i < n; i++) counts[rowOf.get(yTrue[i])! * nc + colOf.get(yPred[i])!]++;
  return { classes, clusters, counts, n };
}

/**
 * Clustering accuracy: max over one-to-one cluster->class matchings of the matched items, over n.
 * The matching is the Hungarian method on the full (rectangular) contingency table, as
 * `scipy.optimize.linear_sum_assignment(table, maximize=True)`. Returns 1 for an empty input.
 */
export function clusteringAccuracy(yTrue: Labels, yPred: Labels, options: ContingencyOptions = {}): number {
  return accuracyFromTable(contingencyTable(yTrue, yPred, options)).acc;
}

/**
 * NMI with arithmetic normalisation: MI / ((H(true) + H(pred)) / 2), as scikit-learn's default.
 * Both labellings with a single value (or none): 1. MI = 0 otherwise: 0.
 */
export function normalizedMutualInfo(yTrue: Labels, yPred: Labels): number {
  return nmiFromTable(contingencyTable(yTrue, yPred));
}

/** Adjusted Rand index (Hubert and Arabie), as scikit-learn's `adjusted_rand_score`. */
export function adjustedRandIndex(yTrue: Labels, yPred: Labels): number {
  return ariFromTable(contingencyTable(yTrue, yPred));
}

/** ACC, NMI and ARI from one contingency table, plus the ACC matching cluster -> class. */
export function evaluateClustering(yTrue: Labels, yPred: Labels, options: ContingencyOptions = {}): ClusteringScores {
  const contingency = contingencyTable(yTrue, yPred, options);
  const { acc, clusterToClass } = accuracyFromTable(contingency);
  return { acc, nmi: nmiFromTable(contingency), ari: ariFromTable(contingency), n: contingency.n, contingency, clusterToClass };
}

// ---------------------------------------------------------------------------------------------

function accuracyFromTable(t: ContingencyTable): { acc: number; clusterToClass: Int32Array } {
  const nr = t.classes.length;
  const nc = t.clusters.length;
  const clusterToClass = new Int32Array(nc).fill(-1);
  if (t.n === 0) return { acc: 1, clusterToClass };
  const match = linearSumAssignment(t.counts, nr, nc, true);
  clusterToClass.set(match.colToRow);
  return { acc: match.total / t.n, clusterToClass };
}

/** Entropy (nats) of the marginal counts, as scikit-learn's `entropy`: one non-zero value -> 0. */
function entropyOf(counts: Float64Array): number {
  let total = 0;
  let nonZero = 0;
  for (const c of counts) {
    total += c;
    if (c > 0) nonZero++;
  }
  if (nonZero <= 1) return 0;
  const logTotal = Math.log(total);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * (Math.log(c) - logTotal);
  return h;
}

function marginals(t: ContingencyTable): { rows: Float64Array; cols: Float64Array } {
  const nr = t.classes.length;
  const nc = t.clusters.length;
  const rows = new Float64Array(nr);
  const cols = new Float64Array(nc);
  for (let r = 0; r < nr; r++) {
    for (let c = 0; c < nc; c++) {
      const v = t.counts[r * nc + c];
      rows[r] += v;
      cols[c] += v;
    }
  }
  return { rows, cols };
}

function nmiFromTable(t: ContingencyTable): number {
  const { rows, cols } = marginals(t);
  const nClasses = countNonZero(rows);
  const nClusters = countNonZero(cols);
  // Both labellings constant (or empty): identical partitions, a perfect match.
  if (nClasses === nClusters && nClasses <= 1) return 1;
  const mi = mutualInfo(t, rows, cols, nClasses, nClusters);
  if (mi === 0) return 0;
  const normalizer = (entropyOf(rows) + entropyOf(cols)) / 2;
  return mi / normalizer;
}

/** Mutual information (nats), term by term as scikit-learn's `mutual_info_score`. */
function mutualInfo(t: ContingencyTable, rows: Float64Array, cols: Float64Array, nClasses: number, nClusters: number): number {
  if (nClasses === 1 || nClusters === 1) return 0;
  const nc = t.clusters.length;
  const total = t.n;
  const logTotal = Math.log(total);
  let mi = 0;
  for (let r = 0; r < t.classes.length; r++) {
    for (let c = 0; c < nc; c++) {
      const v = t.counts[r * nc + c];
      if (v === 0) continue;
      const p = v / total;
      const logOuter = -Math.log(rows[r] * cols[c]) + logTotal + logTotal;
      const term = p * (Math.log(v) - logTotal) + p * logOuter;
      if (Math.abs(term) >= Number.EPSILON) mi += term;
    }
  }
  return Math.max(mi, 0);
}

/** ARI from the pair confusion matrix, in exact integer arithmetic (n^2 overflows 2^53 at n ~ 1e8). */
function ariFromTable(t: ContingencyTable): number {
  const { rows, cols } = marginals(t);
  const n = BigInt(t.n);
  let sumSquares = 0n;
  for (const v of t.counts) sumSquares += BigInt(v) * BigInt(v);
  let sumCols = 0n;
  for (const v of cols) sumCols += BigInt(v) * BigInt(v);
  let sumRows = 0n;
  for (const v of rows) sumRows += BigInt(v) * BigInt(v);
  const tp = sumSquares - n;
  const fp = sumCols - sumSquares; // pairs together in the clustering, apart in the classes
  const fn = sumRows - sumSquares;
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0n && fp === 0n) return 1;
  const num = 2n * (tp * tn - fn * fp);
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return bigRatio(num, den);
}

/** num / den as a double, exact up to the final rounding for the sizes that occur here. */
function bigRatio(num: bigint, den: bigint): number {
  const q = num / den;
  const r = num - q * den;
  return Number(q) + Number(r) / Number(den);
}

function countNonZero(a: Float64Array): number {
  let k = 0;
  for (const v of a) if (v > 0) k++;
  return k;
}

function checkPair(yTrue: Labels, yPred: Labels): void {
  if (yTrue.length !== yPred.length) {
    throw new UsageError(`labels differ in length: yTrue has ${yTrue.length}, yPred has ${yPred.length}`);
  }
}

function labelValues(y: Labels, count: number | undefined, option: string, name: string): Int32Array {
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 0) throw new UsageError(`expected an integer >= 0 for ${option} but received ${count}`);
    for (let i = 0; i < y.length; i++) {
      if (!(Number.isInteger(y[i]) && y[i] >= 0 && y[i] < count)) {
        throw new UsageError(`${name}[${i}] = ${y[i]} is outside 0..${count - 1} (${option}=${count})`);
      }
    }
    return Int32Array.from({ length: count }, (_, i) => i);
  }
  const seen = new Set<number>();
  for (let i = 0; i < y.length; i++) {
    if (!Number.isInteger(y[i])) throw new UsageError(`${name}[${i}] = ${y[i]} is not an integer label`);
    seen.add(y[i]);
  }
  return Int32Array.from([...seen].sort((a, b) => a - b));
}

function indexOf(values: Int32Array): Map<number, number> {
  const m = new Map<number, number>();
  values.forEach((v, i) => m.set(v, i));
  return m;
}

/**
 * Scores of a clustering of `dataset` against its own labels, with every cluster 0..k-1 and every
 * known class as a row/column of the contingency table; null when the dataset has no labels.
 */
export function evaluateDataset(dataset: Pick<Dataset, "labels" | "classNames">, clusters: Labels, k: number): ClusteringScores | null {
  if (!dataset.labels) return null;
  return evaluateClustering(dataset.labels, clusters, { nClusters: k, nClasses: dataset.classNames?.length });
}
