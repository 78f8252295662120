/** Summaries over seeds: the "mean ± std" that papers (and satc's tables) report. */
import type { Scores } from "../run/record.js";

export interface MeanStd {
  mean: number;
  /** Sample standard deviation over the seeds (n - 1 in the denominator); 0 for one seed. */
  std: number;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** Mean and standard deviation of ACC, NMI and ARI over runs; null when there are none. */
export function summarizeScores(scores: readonly Scores[]): { mean: Scores; std: Scores } | null {
  if (scores.length === 0) return null;
  const mean = {} as Scores;
  const std = {} as Scores;
  for (const key of ["acc", "nmi", "ari"] as const) {
    const m = meanStd(scores.map((s) => s[key]));
    mean[key] = m.mean;
    std[key] = m.std;
  }
  return { mean, std };
}
