/**
 * The paper's ablation on the user's data (`satc ablate`): the spatial slot's variants (gat, gcn,
 * transformer, mean, none) trained with several seeds each, scored on the input's labels and on
 * an optional eval input, summarised as mean ± std per metric. Nothing here prints.
 */
import { UsageError, expected } from "../errors.js";
import { checkClusterCount, openDataset } from "../input/index.js";
import { encodeFeatures, type EncoderName } from "../encoders/index.js";
import { evaluateDataset } from "../evaluation/metrics.js";
import type { Dataset } from "../input/dataset.js";
import { predictSatc, releaseSatc, spatialVariants, trainSatc, type SatcOptions, type SpatialVariant } from "./method.js";
import { meanStd, type MeanStd } from "../evaluation/summary.js";

export { meanStd, type MeanStd };

export interface AblationOptions {
  input: string;
  k: number;
  evalInput?: string;
  dataDir?: string;
  labels?: string;
  encoder?: EncoderName;
  /** Default: all of gat, gcn, transformer, mean, none. */
  variants?: SpatialVariant[];
  /** Seeds per variant (seed, seed + 1, ...). Default 3. */
  seeds?: number;
  seed?: number;
  epochs?: number;
  patience?: number;
  cacheDir?: string | false;
  threads?: number;
  /** Passed on to trainSatc (graph k, heads, positions, ...). */
  method?: Partial<Omit<SatcOptions, "clusters" | "seed" | "spatial" | "maxEpochs" | "patience" | "onProgress">>;
  onProgress?: (event: { stage: string; message?: string; done?: number; total?: number }) => void;
}

export interface AblationScores {
  acc: number;
  nmi: number;
  ari: number;
}

export interface AblationRun {
  variant: SpatialVariant;
  seed: number;
  /** Scores on the input (null without labels) and on the eval input. */
  train: AblationScores | null;
  eval: AblationScores | null;
  epochs: number;
  seconds: number;
}

export interface AblationSummary {
  variant: SpatialVariant;
  train: Record<keyof AblationScores, MeanStd> | null;
  eval: Record<keyof AblationScores, MeanStd> | null;
  seconds: MeanStd;
}

export interface AblationResult {
  n: number;
  evalN: number | null;
  runs: AblationRun[];
  summary: AblationSummary[];
}

function summarise(scores: (AblationScores | null)[]): Record<keyof AblationScores, MeanStd> | null {
  if (scores.some((s) => s === null) || scores.length === 0) return null;
  const s = scores as AblationScores[];
  return { acc: meanStd(s.map((x) => x.acc)), nmi: meanStd(s.map((x) => x.nmi)), ari: meanStd(s.map((x) => x.ari)) };
}

function score(d: Dataset, predictions: Int32Array, k: number): AblationScores | null {
  const s = evaluateDataset(d, predictions, k);
  return s && { acc: s.acc, nmi: s.nmi, ari: s.ari };
}

export async function runAblation(o: AblationOptions): Promise<AblationResult> {
  const variants = o.variants ?? [...spatialVariants];
  if (variants.length === 0) throw new UsageError("the ablation needs at least one variant");
  for (const v of variants) if (!spatialVariants.includes(v)) throw new UsageError(expected(`a list of ${spatialVariants.join(", ")}`, "--variants", v));
  const seeds = o.seeds ?? 3;
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError(expected("a positive integer", "--seeds", seeds));
  const progress = o.onProgress ?? (() => {});
  const dataset = await openDataset(o.input, { dataDir: o.dataDir, labels: o.labels });
  checkClusterCount(dataset, o.k);
  const evalDataset = o.evalInput ? await openDataset(o.evalInput, { dataDir: o.dataDir }) : null;
  const encode = (d: Dataset) => encodeFeatures(d, o.encoder ?? "pixels", {}, {
    cacheDir: o.cacheDir, onProgress: (p) => progress({ stage: "encode", done: p.done, total: p.total }),
  });
  const x = await encode(dataset);
  const evalX = evalDataset ? await encode(evalDataset) : null;
  if (!x.patches && variants.some((v) => v !== "none")) {
    throw new UsageError(`${o.input}: the features have no patch nodes (precomputed global features?); only --variants none can run`);
  }
  const runs: AblationRun[] = [];
  const first = o.seed ?? 0;
  for (const variant of variants) {
    for (let r = 0; r < seeds; r++) {
      const seed = first + r;
      const t0 = performance.now();
      const label = `${variant} seed ${seed}`;
      const trained = await trainSatc({ global: x.global, patches: x.patches }, {
        ...o.method, clusters: o.k, seed, spatial: variant, maxEpochs: o.epochs, patience: o.patience, threads: o.threads,
        onProgress: (e) => {
          if (e.stage === "train") progress({ stage: "train", message: `${label}: loss ${e.loss.toFixed(4)}`, done: e.epoch, total: e.maxEpochs });
        },
      });
      try {
        const evalPred = evalX ? await predictSatc(trained.model, evalX.global, { threads: o.threads }) : null;
        runs.push({
          variant, seed, train: score(dataset, trained.predictions, o.k),
          eval: evalDataset && evalPred ? score(evalDataset, evalPred.predictions, o.k) : null,
          epochs: trained.epochs, seconds: (performance.now() - t0) / 1000,
        });
      } finally {
        await releaseSatc(trained.model);
      }
    }
  }
  const summary = variants.map((variant) => {
    const rs = runs.filter((r) => r.variant === variant);
    return { variant, train: summarise(rs.map((r) => r.train)), eval: summarise(rs.map((r) => r.eval)), seconds: meanStd(rs.map((r) => r.seconds)) };
  });
  return { n: x.global.rows, evalN: evalX?.global.rows ?? null, runs, summary };
}

/** One plain-text table: a row per variant, mean ± std (in %) of ACC, NMI, ARI on the input and the eval input. */
export function formatAblation(result: AblationResult, names: { input: string; evalInput?: string }, seeds: number): string {
  const pct = (m: MeanStd) => `${(100 * m.mean).toFixed(2)} ± ${(100 * m.std).toFixed(2)}`;
  const header = ["variant"];
  const hasTrain = result.summary.some((s) => s.train), hasEval = result.summary.some((s) => s.eval);
  if (hasTrain) header.push(`${names.input} ACC`, "NMI", "ARI");
  if (hasEval) header.push(`${names.evalInput} ACC`, "NMI", "ARI");
  header.push("s/run");
  const rows = result.summary.map((s) => {
    const cells: string[] = [s.variant];
    if (hasTrain) cells.push(...(s.train ? [pct(s.train.acc), pct(s.train.nmi), pct(s.train.ari)] : ["-", "-", "-"]));
    if (hasEval) cells.push(...(s.eval ? [pct(s.eval.acc), pct(s.eval.nmi), pct(s.eval.ari)] : ["-", "-", "-"]));
    cells.push(s.seconds.mean.toFixed(1));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [
    `satc ablate ${names.input}: n=${result.n}${result.evalN !== null ? `, eval ${names.evalInput} n=${result.evalN}` : ""}, ${seeds} seed(s) per variant; mean ± std (sample, n-1) in %; NMI arithmetic-mean normalised`,
    line(header),
    ...rows.map(line),
  ];
  if (!hasTrain && !hasEval) out.push("no labels: nothing to score (runs completed)");
  return out.join("\n") + "\n";
}
