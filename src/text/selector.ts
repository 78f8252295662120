/**
 * SATC's text selector (DESIGN 1.2): is the text counterpart worth a view of its own?
 *
 * k-means of all z_textual into K_t = 10 clusters (Euclidean k-means, as scikit-learn's KMeans
 * default, on the unit rows; fixed seed, 10 restarts); tau = mean over the clusters of the mean
 * squared Euclidean distance of the members to their centre (the mean of the members). The text
 * view is used when tau > 0.33 (strictly) under mode "auto"; "on" and "off" force the decision and
 * tau is still computed and reported. Label-free, computed once per dataset.
 */
import { UsageError, expected } from "../errors.js";
import { kmeans } from "../clustering/kmeans.js";
import type { Matrix } from "../util/matrix.js";

export const textModes = ["auto", "on", "off"] as const;
export type TextMode = (typeof textModes)[number];

/** SATC's numbers: K_t and the threshold on tau. */
export const SATC_SELECTOR = Object.freeze({ clusters: 10, threshold: 0.33 });

export interface TextDecision {
  /** Mean over clusters of the mean squared distance of members to their centre. */
  tau: number;
  threshold: number;
  /** Whether the text view joins the training. */
  used: boolean;
  mode: TextMode;
  /** Clusters used for tau (K_t, lowered to nSamples when fewer) and the k-means seed. */
  clusters: number;
  seed: number;
  /** Mean squared distance per non-empty cluster, in cluster order. */
  perCluster: number[];
  warnings: string[];
}

export interface CompactnessOptions {
  mode?: TextMode;
  /** Default 0.33. */
  threshold?: number;
  /** K_t; default 10. */
  clusters?: number;
  /** k-means seed (default 0) and restarts (default 10). */
  seed?: number;
  nInit?: number;
  threads?: number;
}

export function checkTextMode(mode: string, option = "--text"): TextMode {
  if (!(textModes as readonly string[]).includes(mode)) throw new UsageError(expected(`one of ${textModes.join(", ")}`, option, mode));
  return mode as TextMode;
}

/** The decision alone: "on" and "off" force it; "auto" uses text iff tau > threshold. */
export function decideText(tau: number, mode: TextMode = "auto", threshold: number = SATC_SELECTOR.threshold): boolean {
  if (mode === "on") return true;
  if (mode === "off") return false;
  return tau > threshold;
}

/**
 * Mean over clusters of the mean squared distance of the rows of x (nSamples, dim) to their
 * cluster's mean, for the given labels (nSamples). Empty clusters are skipped. Float64 sums.
 */
export function clusterCompactness(x: Matrix, labels: Int32Array, k: number): { tau: number; perCluster: number[] } {
  const d = x.cols;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < d; j++) sums[c * d + j] += x.data[i * d + j];
  }
  const sq = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    const c = labels[i];
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = x.data[i * d + j] - sums[c * d + j] / counts[c];
      s += diff * diff;
    }
    sq[c] += s;
  }
  const perCluster: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] > 0) perCluster.push(sq[c] / counts[c]);
  const tau = perCluster.reduce((a, b) => a + b, 0) / perCluster.length;
  return { tau, perCluster };
}

/** tau of the text counterparts zText (nSamples, dim) and the decision it leads to. */
export async function textCompactness(zText: Matrix, options: CompactnessOptions = {}): Promise<TextDecision> {
  const mode = checkTextMode(options.mode ?? "auto", "mode");
  const threshold = options.threshold ?? SATC_SELECTOR.threshold;
  if (!Number.isFinite(threshold)) throw new UsageError(expected("a finite number", "threshold", threshold));
  if (zText.rows < 1) throw new UsageError("text selector: no text counterparts");
  const warnings: string[] = [];
  let clusters = options.clusters ?? SATC_SELECTOR.clusters;
  if (!Number.isInteger(clusters) || clusters < 1) throw new UsageError(expected("an integer >= 1", "clusters", clusters));
  if (clusters > zText.rows) {
    warnings.push(`text selector: ${zText.rows} samples are fewer than K_t=${clusters} clusters; tau uses ${zText.rows}`);
    clusters = zText.rows;
  }
  const seed = options.seed ?? 0;
  const fit = await kmeans(zText, clusters, { metric: "euclidean", seed, nInit: options.nInit ?? 10, threads: options.threads });
  warnings.push(...fit.warnings.map((w) => `text selector k-means: ${w}`));
  const { tau, perCluster } = clusterCompactness(zText, fit.labels, clusters);
  return { tau, threshold, used: decideText(tau, mode, threshold), mode, clusters, seed, perCluster, warnings };
}
