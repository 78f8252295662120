/**
 * The paper's ablation on the user's data (`satc ablate`): the spatial slot's variants (gat, gcn,
 * transformer, mean, none), each with and without the text view when the encoder gives one, trained
 * with several seeds each, scored on the input's labels and on an optional eval input, summarised
 * as mean ± std per metric. The text selector's tau and decision are computed once, label-free,
 * and reported beside the table. Nothing here prints.
 */
import { UsageError, expected } from "../errors.js";
import { checkClusterCount, openDataset } from "../input/index.js";
import { pixelsOptionsForHeads } from "../encoders/pixels.js";
import { encodeFeatures, resnetOptionsOf, resnetSpatialNodes, type EncodedFeatures, type EncoderName, type ModelEncoderOptions, type SpatialNodesReduce } from "../encoders/index.js";
import { evaluateDataset } from "../evaluation/metrics.js";
import { mineNeighbors } from "../clustering/neighbors.js";
import type { Dataset } from "../input/dataset.js";
import type { Matrix } from "../util/matrix.js";
import type { RunRecord, SpatialNodesRecord } from "../run/record.js";
import { resolveTextView } from "../run/textView.js";
import { SATC_SELECTOR } from "../text/index.js";
import { predictSatc, releaseSatc, spatialVariants, trainSatc, type SatcOptions, type SpatialVariant } from "./method.js";
import { meanStd, type MeanStd } from "../evaluation/summary.js";

export { meanStd, type MeanStd };

/**
 * Which text settings the ablation trains: "both" each variant with and without the text view,
 * "on" / "off" only with / without it, "auto" as the text selector decides (tau > 0.33).
 */
export const ablationTextModes = ["auto", "on", "off", "both"] as const;
export type AblationTextMode = (typeof ablationTextModes)[number];

export interface AblationOptions {
  input: string;
  k: number;
  evalInput?: string;
  dataDir?: string;
  labels?: string;
  encoder?: EncoderName;
  /** Options of the pretrained encoders (modelDir, device, ...), as `satc cluster` takes them. */
  encoderOptions?: Record<string, unknown>;
  /** Default: all of gat, gcn, transformer, mean, none. */
  variants?: SpatialVariant[];
  /**
   * Channel reduction of ResNet-50's patch nodes, the spatial view's nodes with the clip and
   * resnet50 encoders (as `satc cluster`); default PCA to 64 channels fitted on 1,000 images.
   */
  spatialNodes?: SpatialNodesReduce;
  /** Default: "both" when the encoder has a text space (clip), else "off". */
  text?: AblationTextMode;
  /** Use the first N of TAC's 7 templates when the noun bank is built now. */
  templates?: number;
  /** Seeds per row (seed, seed + 1, ...). Default 3. */
  seeds?: number;
  seed?: number;
  epochs?: number;
  patience?: number;
  cacheDir?: string | false;
  threads?: number;
  /** Passed on to trainSatc (graph k, heads, positions, topK, ...). */
  method?: Partial<Omit<SatcOptions, "clusters" | "seed" | "spatial" | "maxEpochs" | "patience" | "onProgress">>;
  onProgress?: (event: { stage: string; message?: string; done?: number; total?: number }) => void;
}

export interface AblationScores {
  acc: number;
  nmi: number;
  ari: number;
}

/** One row of the table: a spatial variant, with or without the text view. */
export interface AblationSetting {
  variant: SpatialVariant;
  text: boolean;
}

export interface AblationRun extends AblationSetting {
  seed: number;
  /** Scores on the input (null without labels) and on the eval input. */
  train: AblationScores | null;
  eval: AblationScores | null;
  epochs: number;
  seconds: number;
  /** Views the run trained ("visual", "spatial", "text") and the view pairs of its loss. */
  views: string[];
  pairs: [string, string][];
}

export interface AblationSummary extends AblationSetting {
  /** "gat + text", "gat", ... */
  label: string;
  train: Record<keyof AblationScores, MeanStd> | null;
  eval: Record<keyof AblationScores, MeanStd> | null;
  seconds: MeanStd;
}

/** The text view of the ablation: computed once per input, label-free. */
export interface AblationText {
  mode: AblationTextMode;
  /** Text compactness (DESIGN 1.2); null when no text view was built. */
  tau: number | null;
  threshold: number;
  /** The selector's decision (tau > threshold), whatever the rows force; null without tau. */
  selectorUses: boolean | null;
  /** Why there is no text view, when the encoder has none. */
  unavailable: string | null;
  /** Nouns of the bank the counterpart was retrieved from. */
  nouns: number | null;
}

export interface AblationResult {
  n: number;
  evalN: number | null;
  /** What made the features, the text tower's model files included. */
  encoder: RunRecord["encoder"];
  /** What made the spatial view's nodes when they came from ResNet-50 (clip, resnet50 encoders). */
  spatialNodes: SpatialNodesRecord | null;
  text: AblationText;
  runs: AblationRun[];
  summary: AblationSummary[];
}

/** "gat + text" or "gat". */
export function settingLabel(s: AblationSetting): string {
  return s.text ? `${s.variant} + text` : s.variant;
}

/** The rows, in table order: per variant, with text before without. */
export function ablationSettings(variants: readonly SpatialVariant[], text: readonly boolean[]): AblationSetting[] {
  return variants.flatMap((variant) => text.map((t) => ({ variant, text: t })));
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

/** The views the ablation draws on: visual always, patch nodes for the spatial variants, z_textual for the text rows. */
export interface AblationViews {
  /** Visual view, (nSamples, d). */
  global: Matrix;
  /** Patch nodes, (nSamples, cells, channels); needed by every variant but "none". */
  patches: EncodedFeatures["patches"];
  /** The patches are channel-reduced already (ResNet-50 nodes): trainSatc must not reduce them again. */
  patchesReduced?: boolean;
  /** z_textual, (nSamples, dText); needed by the rows with text. */
  text: Matrix | null;
}

export interface AblationPlan {
  k: number;
  settings: AblationSetting[];
  /** Seeds per row (seed, seed + 1, ...). */
  seeds: number;
  seed: number;
  epochs?: number;
  patience?: number;
  threads?: number;
  method?: AblationOptions["method"];
  onProgress?: AblationOptions["onProgress"];
}

/** How a run is scored: its clustering of the input, and its visual head's clustering of a second input. */
export interface AblationScoring {
  train?: (predictions: Int32Array) => AblationScores | null;
  eval?: { global: Matrix; score: (predictions: Int32Array) => AblationScores | null };
}

/**
 * Train every row of the plan with every seed on the same views. The visual and text
 * neighbours do not depend on the seed or the variant: they are mined once and shared.
 */
export async function ablateViews(views: AblationViews, plan: AblationPlan, scoring: AblationScoring = {}): Promise<AblationRun[]> {
  const progress = plan.onProgress ?? (() => {});
  if (plan.settings.some((s) => s.text) && !views.text) throw new UsageError("rows with text need the text view (z_textual); there is none");
  if (!views.patches) {
    const spatial = plan.settings.find((s) => s.variant !== "none");
    if (spatial) throw new UsageError(`the spatial variant '${spatial.variant}' needs patch nodes, which these features do not have; only --variants none can run`);
  }
  const topK = plan.method?.topK ?? 50;
  const mine = async (x: Matrix, view: string) =>
    mineNeighbors(x, topK, {
      threads: plan.threads, onProgress: (e) => progress({ stage: "neighbors", message: view, done: e.done, total: e.total }),
    });
  const neighbors = {
    visual: await mine(views.global, "visual"),
    text: plan.settings.some((s) => s.text) ? await mine(views.text!, "text") : undefined,
  };
  const runs: AblationRun[] = [];
  for (const setting of plan.settings) {
    for (let r = 0; r < plan.seeds; r++) {
      const seed = plan.seed + r;
      const t0 = performance.now();
      const label = `${settingLabel(setting)} seed ${seed}`;
      const trained = await trainSatc(
        {
          global: views.global, patches: setting.variant === "none" ? null : views.patches, text: setting.text ? views.text : null,
          neighbors: { visual: neighbors.visual, text: setting.text ? neighbors.text : undefined },
        },
        {
          ...plan.method,
          ...(views.patchesReduced ? { reduce: false as const } : {}),
          clusters: plan.k, seed, spatial: setting.variant, maxEpochs: plan.epochs, patience: plan.patience, threads: plan.threads,
          onProgress: (e) => {
            if (e.stage === "train") progress({ stage: "train", message: `${label}: loss ${e.loss.toFixed(4)}`, done: e.epoch, total: e.maxEpochs });
          },
        },
      );
      try {
        const evalPred = scoring.eval ? await predictSatc(trained.model, scoring.eval.global, { threads: plan.threads }) : null;
        runs.push({
          ...setting, seed,
          train: scoring.train?.(trained.predictions) ?? null,
          eval: scoring.eval && evalPred ? scoring.eval.score(evalPred.predictions) : null,
          epochs: trained.epochs, seconds: (performance.now() - t0) / 1000,
          views: [...trained.model.views], pairs: trained.model.pairs.map(([a, b]) => [a, b] as [string, string]),
        });
      } finally {
        await releaseSatc(trained.model);
      }
    }
  }
  return runs;
}

/** Mean ± std per row over its seeds, in the order of `settings`. */
export function summariseRuns(runs: readonly AblationRun[], settings: readonly AblationSetting[]): AblationSummary[] {
  return settings.map((s) => {
    const rs = runs.filter((r) => r.variant === s.variant && r.text === s.text);
    return { ...s, label: settingLabel(s), train: summarise(rs.map((r) => r.train)), eval: summarise(rs.map((r) => r.eval)), seconds: meanStd(rs.map((r) => r.seconds)) };
  });
}

/** The encoders with a text space (resolveTextView builds the noun bank from CLIP's text tower). */
const TEXT_ENCODERS: readonly string[] = ["clip"];

export async function runAblation(o: AblationOptions): Promise<AblationResult> {
  const variants = o.variants ?? [...spatialVariants];
  if (variants.length === 0) throw new UsageError("the ablation needs at least one variant");
  for (const v of variants) if (!spatialVariants.includes(v)) throw new UsageError(expected(`a list of ${spatialVariants.join(", ")}`, "--variants", v));
  const seeds = o.seeds ?? 3;
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError(expected("a positive integer", "--seeds", seeds));
  const encoder = o.encoder ?? "pixels";
  const hasTextSpace = TEXT_ENCODERS.includes(encoder);
  const mode: AblationTextMode = o.text ?? (hasTextSpace ? "both" : "off");
  if (!ablationTextModes.includes(mode)) throw new UsageError(expected(`one of ${ablationTextModes.join(", ")}`, "--text", mode));
  // Before any encoding: a usage error should not wait for the encoder.
  if ((mode === "on" || mode === "both") && !hasTextSpace) {
    throw new UsageError(`--text ${mode}: the ${encoder} encoder has no text space (the text view needs CLIP image embeddings: --encoder clip)`);
  }
  const progress = o.onProgress ?? (() => {});
  const dataset = await openDataset(o.input, { dataDir: o.dataDir, labels: o.labels });
  checkClusterCount(dataset, o.k);
  const evalDataset = o.evalInput ? await openDataset(o.evalInput, { dataDir: o.dataDir }) : null;
  // The same pixels the heads of `satc cluster` take (uncentred).
  const encoderOptions = encoder === "pixels" ? pixelsOptionsForHeads(o.encoderOptions) : o.encoderOptions ?? {};
  const encode = (d: Dataset) => encodeFeatures(d, encoder, encoderOptions, {
    cacheDir: o.cacheDir, onProgress: (p) => progress({ stage: "encode", message: d.name, done: p.done, total: p.total }),
  });
  const x = await encode(dataset);
  const evalX = evalDataset ? await encode(evalDataset) : null;
  // The spatial view's nodes: the pixel grid with pixels; ResNet-50's map, channel-reduced as it streams, with clip/resnet50 (as satc cluster).
  let spatialNodes: { nodes: NonNullable<EncodedFeatures["patches"]>; info: SpatialNodesRecord } | null = null;
  if (variants.some((v) => v !== "none") && (encoder === "clip" || encoder === "resnet50") && dataset.kind === "images") {
    const r = await resnetSpatialNodes(dataset, {
      model: resnetOptionsOf(encoder, (o.encoderOptions ?? {}) as ModelEncoderOptions),
      reduce: o.spatialNodes,
      cacheDir: o.cacheDir,
      threads: o.threads,
      onProgress: (p) => progress({ stage: "spatial-nodes", message: p.stage === "sample" ? "ResNet-50 nodes: images for the PCA" : "ResNet-50 nodes", done: p.done, total: p.total }),
    });
    spatialNodes = { nodes: r.nodes, info: r.info };
  }
  const patches = spatialNodes?.nodes ?? x.patches;
  if (!patches && variants.some((v) => v !== "none")) {
    throw new UsageError(`${o.input}: the ${x.info.name} features have no patch nodes; only --variants none can run`);
  }

  // Label-free: the text view and tau see the image embeddings only. "auto" asks the selector.
  const first = o.seed ?? 0;
  const text = await resolveTextView(
    x.global,
    // An explicit --text off builds nothing; otherwise ask (for the pixels encoder: why there is no text view).
    o.text === "off" ? "off" : "auto",
    { encoder, encoderOptions: o.encoderOptions ?? {}, features: null, cacheDir: o.cacheDir, templates: o.templates },
    { seed: first, onProgress: (e) => progress(e) },
  );
  if (!text.view && (mode === "on" || mode === "both")) throw new UsageError(`--text ${mode}: ${text.unavailable ?? "no text view"}`);
  const decision = text.view?.decision ?? null;
  const textRows = mode === "both" ? [true, false] : mode === "on" ? [true] : mode === "off" ? [false] : [decision?.used ?? false];
  const settings = ablationSettings(variants, textRows);

  const runs = await ablateViews(
    { global: x.global, patches, patchesReduced: spatialNodes !== null, text: text.view?.embeddings ?? null },
    { k: o.k, settings, seeds, seed: first, epochs: o.epochs, patience: o.patience, threads: o.threads, method: o.method, onProgress: o.onProgress },
    {
      train: (p) => score(dataset, p, o.k),
      eval: evalDataset && evalX ? { global: evalX.global, score: (p) => score(evalDataset, p, o.k) } : undefined,
    },
  );
  return {
    n: x.global.rows,
    evalN: evalX?.global.rows ?? null,
    encoder: { ...x.info, models: [...x.info.models, ...text.models] },
    spatialNodes: spatialNodes?.info ?? null,
    text: {
      mode,
      tau: decision?.tau ?? null,
      threshold: decision?.threshold ?? SATC_SELECTOR.threshold,
      selectorUses: decision ? decision.used : null,
      unavailable: text.unavailable,
      nouns: text.bank?.nouns ?? null,
    },
    runs,
    summary: summariseRuns(runs, settings),
  };
}

/** The line about the text view: tau and the selector's decision, once for the whole table. */
export function formatTextLine(t: AblationText): string {
  if (t.unavailable) return `text view: not available: ${t.unavailable}`;
  if (t.tau === null) return `text view: off (--text ${t.mode})`;
  const rows = t.mode === "both" ? "rows with '+ text' train the text head" : t.mode === "on" ? "every row trains the text head (--text on)" : `rows follow the selector (--text auto)`;
  return `text view: tau=${t.tau.toFixed(3)} (threshold ${t.threshold}) -> the selector ${t.selectorUses ? "uses" : "drops"} it (label-free); ${rows}`;
}

/** One plain-text table: a row per variant (and text setting), mean ± std (in %) of ACC, NMI, ARI on the input and the eval input. */
export function formatAblation(result: AblationResult, names: { input: string; evalInput?: string }, seeds: number): string {
  const pct = (m: MeanStd) => `${(100 * m.mean).toFixed(2)} ± ${(100 * m.std).toFixed(2)}`;
  const header = ["variant"];
  const hasTrain = result.summary.some((s) => s.train), hasEval = result.summary.some((s) => s.eval);
  if (hasTrain) header.push(`${names.input} ACC`, "NMI", "ARI");
  if (hasEval) header.push(`${names.evalInput} ACC`, "NMI", "ARI");
  header.push("s/run");
  const rows = result.summary.map((s) => {
    const cells: string[] = [s.label];
    if (hasTrain) cells.push(...(s.train ? [pct(s.train.acc), pct(s.train.nmi), pct(s.train.ari)] : ["-", "-", "-"]));
    if (hasEval) cells.push(...(s.eval ? [pct(s.eval.acc), pct(s.eval.nmi), pct(s.eval.ari)] : ["-", "-", "-"]));
    cells.push(s.seconds.mean.toFixed(1));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const enc = result.encoder.baseline ? `${result.encoder.name} (weight-free baseline)` : result.encoder.name;
  const out = [
    `satc ablate ${names.input}: n=${result.n}${result.evalN !== null ? `, eval ${names.evalInput} n=${result.evalN}` : ""}, encoder ${enc}, ${seeds} seed(s) per row; mean ± std (sample, n-1) in %; NMI arithmetic-mean normalised`,
    formatTextLine(result.text),
    line(header),
    ...rows.map(line),
  ];
  if (!hasTrain && !hasEval) out.push("no labels: nothing to score (runs completed)");
  return out.join("\n") + "\n";
}
