/**
 * `satc cluster` as a library call: open the input, encode it (through the feature cache), cluster
 * it with one or more seeds, score it when labels exist, and optionally assign and score a second
 * input against what was learned. Nothing here prints; progress goes to `onProgress`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, resolve as resolvePath } from "node:path";
import { SatcError, UsageError, expected } from "../errors.js";
import { satcVersion } from "../version.js";
import type { Dataset } from "../input/dataset.js";
import { openDataset, checkClusterCount } from "../input/index.js";
import { pixelsOptionsForHeads } from "../encoders/pixels.js";
import { encodeFeatures, resnetOptionsOf, resnetSpatialNodes, type EncodedFeatures, type EncoderName, type ModelEncoderOptions, type SpatialNodesReduce } from "../encoders/index.js";
import { kmeans, assignToCenters, type KMeansMetric } from "../clustering/kmeans.js";
import { trainSatc, predictSatc, releaseSatc, type SpatialVariant } from "../spatial/method.js";
import { loadTextFeatures, SATC_SELECTOR, type TextFeatures, type TextMode } from "../text/index.js";
import { resolveTextView } from "./textView.js";
import { evaluateDataset, type ClusteringScores } from "../evaluation/metrics.js";
import { summarizeScores } from "../evaluation/summary.js";
import type { Matrix } from "../util/matrix.js";
import type { Assignments } from "./folder.js";
import type { PatchNodes } from "../spatial/graph.js";
import type { InputRecord, RunRecord, Scores, SeedRun, SpatialNodesRecord } from "./record.js";

export type ClusterMethod = "kmeans" | "heads";
export const clusterMethods: readonly ClusterMethod[] = ["heads", "kmeans"];

export interface ClusterRunOptions {
  /** Input to cluster: a folder, a .npy feature file, an IDX file, or a spec like fashion-mnist:test. Optional with `features`. */
  input?: string;
  /** Number of clusters. */
  k: number;
  /** A second input assigned to the learned clusters and scored. */
  evalInput?: string;
  /** Where dataset specs (fashion-mnist:...) look for their files. */
  dataDir?: string;
  /** Labels file for a .npy or IDX input. */
  labels?: string;
  encoder?: EncoderName;
  encoderOptions?: Record<string, unknown>;
  /** "heads" (the method's clustering heads, default) or "kmeans". */
  method?: ClusterMethod;
  /** k-means distance; default "euclidean". */
  metric?: KMeansMetric;
  /** k-means restarts per seed; default 10. */
  nInit?: number;
  /** Most training epochs of the heads; default 200. */
  epochs?: number;
  /** Stop training after this many epochs without a decrease of the epoch loss; default 10. */
  patience?: number;
  /**
   * Heads: trainings per seed, the one with the lowest final loss kept (label-free); default 5.
   * On Fashion-MNIST pixels (twin heads, 20 epochs, 10 seeds) four trainings end at test ACC
   * 0.600-0.602 and six at 0.52-0.59, and the four lowest final losses are those four; five
   * restarts hold one of them with odds 1 - C(6,5)/C(10,5) = 98%. Comparing the restarts earlier
   * does not work as well: by their mean loss over epochs 1-3, a README run kept a 0.582 training
   * over its 0.600 one.
   */
  restarts?: number;
  /** First seed; run r uses seed + r. Default 0. */
  seed?: number;
  /** Number of runs with consecutive seeds; default 1. */
  runs?: number;
  /**
   * Spatial view of the heads method (DESIGN 1.3): gat, gcn, transformer, mean or none. Default "none".
   * Its nodes: the pixels encoder's grid with --encoder pixels; ResNet-50's patch map (channel-reduced,
   * `spatialNodes`) with clip or resnet50, run with the encoder's model-file options (modelDir, cache, offline).
   */
  spatial?: SpatialVariant;
  /** Channel reduction of ResNet-50's nodes for clip/resnet50 runs; default PCA to 64 channels fitted on 1,000 images. */
  spatialNodes?: SpatialNodesReduce;
  /** Text view: "auto" (use it when tau > 0.33), "on", "off". Default "auto". */
  text?: TextMode;
  /** A folder of precomputed image and noun embeddings (satc's or TAC's layout), instead of encoding. */
  features?: string;
  /** Use the first N of TAC's 7 templates when the noun bank is built now. */
  templates?: number;
  /** Feature cache folder; false disables the cache. Default: the user cache. */
  cacheDir?: string | false;
  onProgress?: (event: RunProgress) => void;
}

export interface RunProgress {
  stage: "open" | "encode" | "spatial-nodes" | "nouns" | "text" | "kmeans" | "neighbors" | "patch-graph" | "train";
  message?: string;
  done?: number;
  total?: number;
  /** Run index (0-based) when several seeds run. */
  run?: number;
}

export interface ClusterRunResult {
  record: RunRecord;
  assignments: Assignments;
  /** Per-item clusters of the eval input, when there is one. */
  evalAssignments: Assignments | null;
}


function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { satc: satcVersion, node: process.versions.node };
  for (const name of ["onnxruntime-node", "sharp"]) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // Not resolvable through its package.json (exports map): leave it out rather than guess.
    }
  }
  return out;
}

function inputRecord(d: Dataset): InputRecord {
  return {
    // Absolute, so that the report and export find the input again from any working folder.
    source: existsSync(d.source) ? resolvePath(d.source) : d.source,
    name: d.name,
    n: d.ids.length,
    hasLabels: d.labels !== null,
    classNames: d.classNames,
    skipped: d.skipped,
  };
}

/**
 * Confidence of a hard assignment to the nearest centre: 1 - d1/d2 with d1, d2 the (unsquared)
 * distances to the nearest and second-nearest centres — 0 on the boundary between two clusters,
 * 1 on the centre (and with a single centre). Inputs are squared distances, as assignToCenters
 * gives them.
 */
export function marginConfidence(nearest: ArrayLike<number>, second: ArrayLike<number>): Float32Array {
  const out = new Float32Array(nearest.length);
  for (let i = 0; i < out.length; i++) out[i] = second[i] > 0 ? 1 - Math.sqrt(Math.max(0, nearest[i]) / second[i]) : 0;
  return out;
}

export async function runCluster(options: ClusterRunOptions): Promise<ClusterRunResult> {
  const started = performance.now();
  const o = {
    encoder: "pixels" as EncoderName,
    encoderOptions: {},
    method: "heads" as ClusterMethod,
    metric: "euclidean" as KMeansMetric,
    nInit: 10,
    epochs: 200,
    patience: 10,
    restarts: 5,
    spatial: "none" as SpatialVariant,
    text: "auto" as TextMode,
    seed: 0,
    runs: 1,
    ...options,
  };
  if (!clusterMethods.includes(o.method)) throw new UsageError(expected(`one of ${clusterMethods.join(", ")}`, "method", o.method));
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new UsageError(expected("an integer >= 1", "runs", o.runs));
  if (!Number.isInteger(o.restarts) || o.restarts < 1) throw new UsageError(expected("an integer >= 1", "restarts", o.restarts));
  if (o.method === "kmeans" && o.spatial !== "none") throw new UsageError(`--spatial ${o.spatial} applies to --method heads (k-means clusters the visual view alone)`);
  const progress = o.onProgress ?? (() => {});
  const timings: Record<string, number> = {};
  let t = performance.now();

  const textFeatures = o.features ? await loadTextFeatures(o.features) : null;
  if (o.input === undefined && !textFeatures) throw new UsageError("give an input to cluster, or --features <dir>");
  progress({ stage: "open", message: `opening ${o.input ?? o.features}` });
  const dataset = o.input !== undefined ? await openDataset(o.input, { dataDir: o.dataDir, labels: o.labels }) : featuresDataset(textFeatures!, o.features!);
  checkClusterCount(dataset, o.k);
  if (textFeatures && textFeatures.images.rows !== dataset.ids.length) {
    throw new UsageError(`--features ${o.features} has ${textFeatures.images.rows} image embeddings but ${dataset.source} has ${dataset.ids.length} items`);
  }
  const evalDataset = o.evalInput ? await openDataset(o.evalInput, { dataDir: o.dataDir }) : null;
  if (evalDataset && textFeatures) throw new UsageError("--eval cannot be used with --features (the eval input would need the same encoder)");
  timings.open = (performance.now() - t) / 1000;

  t = performance.now();
  const encoderOptions = o.encoder === "pixels" && o.method === "heads" ? pixelsOptionsForHeads(o.encoderOptions) : o.encoderOptions;
  const encode = (d: Dataset) =>
    encodeFeatures(d, o.encoder, encoderOptions, {
      cacheDir: o.cacheDir,
      onProgress: (p) => progress({ stage: "encode", message: d.name, done: p.done, total: p.total }),
    });
  const encoded: EncodedFeatures = textFeatures ? precomputedFeatures(textFeatures, o.features!) : await encode(dataset);
  const evalEncoded = evalDataset ? await encode(evalDataset) : null;
  if (evalEncoded && evalEncoded.global.cols !== encoded.global.cols) {
    throw new SatcError(`eval input ${evalDataset!.source} has ${evalEncoded.global.cols} features per item but ${dataset.source} has ${encoded.global.cols}`);
  }
  timings.encode = (performance.now() - t) / 1000;

  // The spatial view of pretrained-encoder runs: ResNet-50's patch nodes, reduced as they stream.
  let spatialNodes: { nodes: PatchNodes; info: SpatialNodesRecord } | null = null;
  if (o.method === "heads" && o.spatial !== "none" && (o.encoder === "clip" || o.encoder === "resnet50") && !textFeatures && dataset.kind === "images") {
    t = performance.now();
    const r = await resnetSpatialNodes(dataset, {
      model: resnetOptionsOf(o.encoder, o.encoderOptions as ModelEncoderOptions),
      reduce: o.spatialNodes,
      cacheDir: o.cacheDir,
      onProgress: (p) => progress({ stage: "spatial-nodes", message: p.stage === "sample" ? "ResNet-50 nodes: images for the PCA" : "ResNet-50 nodes", done: p.done, total: p.total }),
    });
    spatialNodes = { nodes: r.nodes, info: r.info };
    timings.spatialNodes = (performance.now() - t) / 1000;
  }

  t = performance.now();
  const text = await resolveTextView(
    encoded.global,
    o.text,
    { encoder: textFeatures ? "precomputed" : o.encoder, encoderOptions: o.encoderOptions, features: textFeatures, cacheDir: o.cacheDir, templates: o.templates },
    { seed: o.seed, onProgress: (e) => progress(e) },
  );
  timings.text = (performance.now() - t) / 1000;
  // k-means clusters the visual view alone; for it the text view gives tau and the cluster names.
  const views: FitViews = spatialNodes
    ? { global: encoded.global, patches: spatialNodes.nodes, reduced: true, text: text.view?.decision.used ? text.view.embeddings : null }
    : { global: encoded.global, patches: encoded.patches, reduced: false, text: text.view?.decision.used ? text.view.embeddings : null };

  const runs: SeedRun[] = [];
  let first: {
    clusters: Int32Array;
    confidence: Float32Array;
    evalClusters: Int32Array | null;
    evalConfidence: Float32Array | null;
    metrics: ClusteringScores | null;
    evalMetrics: ClusteringScores | null;
  } | null = null;
  t = performance.now();
  for (let r = 0; r < o.runs; r++) {
    const seed = o.seed + r;
    const runStart = performance.now();
    progress({ stage: o.method === "kmeans" ? "kmeans" : "train", run: r, message: `seed ${seed}` });
    const fit = o.method === "kmeans" ? await fitKMeans(encoded, evalEncoded, o, seed, r, progress) : await fitHeads(views, evalEncoded, o, seed, r, progress);
    const { clusters, confidence, evalClusters, evalConfidence } = fit;
    const metrics = evaluateDataset(dataset, clusters, o.k);
    const evalMetrics = evalDataset && evalClusters ? evaluateDataset(evalDataset, evalClusters, o.k) : null;
    runs.push({
      seed,
      metrics: metrics && scores(metrics),
      eval: evalDataset ? { n: evalDataset.ids.length, metrics: evalMetrics && scores(evalMetrics) } : null,
      seconds: (performance.now() - runStart) / 1000,
      iterations: fit.iterations,
      ...(fit.restarts ? { restarts: fit.restarts } : {}),
      warnings: fit.warnings,
    });
    if (!first) first = { clusters, confidence, evalClusters, evalConfidence, metrics, evalMetrics };
  }
  timings.cluster = (performance.now() - t) / 1000;
  timings.total = (performance.now() - started) / 1000;

  const f = first!;
  const sizes = new Array<number>(o.k).fill(0);
  for (const c of f.clusters) sizes[c]++;
  const record: RunRecord = {
    satcVersion,
    command: "cluster",
    createdAt: new Date().toISOString(),
    input: inputRecord(dataset),
    evalInput: evalDataset ? inputRecord(evalDataset) : null,
    options: { k: o.k, method: o.method, spatial: o.method === "heads" ? o.spatial : null, text: o.text, metric: o.metric, nInit: o.nInit, epochs: o.epochs, patience: o.patience, restarts: o.method === "heads" ? o.restarts : null, seed: o.seed, runs: o.runs, encoder: o.encoder, encoderOptions },
    encoder: { ...encoded.info, models: [...encoded.info.models, ...text.models] },
    features: encoded.path ? { global: encoded.path, dims: [encoded.global.rows, encoded.global.cols] } : null,
    spatialNodes: spatialNodes?.info ?? null,
    text: text.view
      ? { tau: text.view.decision.tau, threshold: text.view.decision.threshold, used: text.view.decision.used, mode: text.mode }
      : { tau: null, threshold: SATC_SELECTOR.threshold, used: false, mode: text.mode, ...(text.unavailable ? { unavailable: text.unavailable } : {}) },
    clusters: { k: o.k, sizes, names: text.view?.names(f.clusters, o.k)?.names ?? null },
    metrics: runs[0].metrics,
    confusion: f.metrics ? confusionRows(f.metrics) : null,
    eval: evalDataset
      ? {
          n: evalDataset.ids.length,
          metrics: runs[0].eval?.metrics ?? null,
          confusion: f.evalMetrics ? confusionRows(f.evalMetrics) : null,
        }
      : null,
    runs,
    summary: o.runs > 1 ? summarizeScores(runs.flatMap((r) => (r.metrics ? [r.metrics] : []))) : null,
    timings,
    versions: versions(),
  };
  return {
    record,
    assignments: { ids: dataset.ids, cluster: f.clusters, confidence: f.confidence },
    evalAssignments: evalDataset && f.evalClusters && f.evalConfidence ? { ids: evalDataset.ids, cluster: f.evalClusters, confidence: f.evalConfidence } : null,
  };
}

/** One seed's answer: a cluster and a confidence per item, for the input and the eval input. */
interface Fit {
  clusters: Int32Array;
  confidence: Float32Array;
  evalClusters: Int32Array | null;
  evalConfidence: Float32Array | null;
  /** k-means iterations of the kept restart, or training epochs. */
  iterations: number;
  /** Heads: every training of this seed (seed, final loss, epochs) and which one was kept. */
  restarts?: SeedRun["restarts"];
  warnings: string[];
}

type Resolved = Required<Pick<ClusterRunOptions, "k" | "metric" | "nInit" | "epochs" | "patience" | "restarts" | "spatial">>;

async function fitKMeans(x: EncodedFeatures, evalX: EncodedFeatures | null, o: Resolved, seed: number, run: number, progress: (e: RunProgress) => void): Promise<Fit> {
  const fit = await kmeans(x.global, o.k, {
    metric: o.metric,
    nInit: o.nInit,
    seed,
    onProgress: (p) => progress({ stage: "kmeans", run, message: `restart ${p.restart + 1}/${p.nInit}, iteration ${p.iteration}`, done: p.restart, total: p.nInit }),
  });
  // One pass per input gives the nearest and second-nearest centre of every item.
  const own = await assignToCenters(x.global, fit.centers, o.metric);
  const other = evalX ? await assignToCenters(evalX.global, fit.centers, o.metric) : null;
  return {
    clusters: fit.labels,
    confidence: marginConfidence(own.distances, own.secondDistances),
    evalClusters: other?.labels ?? null,
    evalConfidence: other ? marginConfidence(other.distances, other.secondDistances) : null,
    iterations: fit.iterations,
    warnings: fit.warnings,
  };
}

/** The views the heads train on: visual (global) always; spatial (patches) and text when present. */
interface FitViews {
  global: Matrix;
  patches: PatchNodes | null;
  /** The patches are already channel-reduced (ResNet-50 nodes): trainSatc must not reduce them again. */
  reduced: boolean;
  text: Matrix | null;
}

/** The method's clustering heads (DESIGN 1.4): visual + spatial (unless "none") + text (when the selector keeps it). */
async function fitHeads(views: FitViews, evalX: EncodedFeatures | null, o: Resolved, seed: number, run: number, progress: (e: RunProgress) => void): Promise<Fit> {
  if (o.spatial !== "none" && !views.patches) {
    throw new UsageError(`--spatial ${o.spatial} needs patch nodes, which precomputed features do not give; give images with --encoder clip, resnet50 or pixels, or use --spatial none`);
  }
  const trained = await trainSatc(
    { global: views.global, patches: o.spatial === "none" ? null : views.patches, text: views.text },
    {
      clusters: o.k,
      seed,
      maxEpochs: o.epochs,
      patience: o.patience,
      restarts: o.restarts,
      spatial: o.spatial,
      ...(views.reduced ? { reduce: false as const } : {}),
      onProgress: (p) => {
        if (p.stage === "train") {
          const restart = p.restarts ? `restart ${p.restart! + 1}/${p.restarts}, ` : "";
          progress({ stage: "train", run, message: `${restart}loss ${p.loss.toFixed(4)}`, done: p.epoch, total: p.maxEpochs });
        }
        else if (p.stage === "neighbors") progress({ stage: "neighbors", run, message: p.view, done: p.done, total: p.total });
        else if (p.stage === "patch-graph") progress({ stage: "patch-graph", run, done: p.done, total: p.total });
        else progress({ stage: "train", run, message: `channels ${p.inChannels} -> ${p.outChannels} (${p.method})` });
      },
    },
  );
  try {
    const evalPred = evalX ? await predictSatc(trained.model, evalX.global) : null;
    const warnings: string[] = [];
    if (views.global.rows <= 50) warnings.push(`only ${views.global.rows} items: the heads draw neighbours from all ${views.global.rows - 1} others instead of each item's top 50`);
    const used = new Set(trained.predictions).size;
    if (used < o.k) warnings.push(`the heads use ${used} of k=${o.k} clusters`);
    return {
      clusters: trained.predictions,
      confidence: trained.confidence,
      evalClusters: evalPred?.predictions ?? null,
      evalConfidence: evalPred?.confidence ?? null,
      iterations: trained.epochs,
      restarts: { tried: trained.restarts, kept: trained.kept },
      warnings,
    };
  } finally {
    await releaseSatc(trained.model);
  }
}

/** A dataset whose items are the rows of a --features folder (ids are row numbers). */
function featuresDataset(f: TextFeatures, dir: string): Dataset {
  const n = f.images.rows;
  return {
    kind: "features",
    name: f.dataset ?? basename(resolvePath(dir)),
    source: resolvePath(dir),
    fingerprint: `features:${resolvePath(dir)}`,
    ids: Array.from({ length: n }, (_, i) => String(i)),
    labels: f.labels,
    classNames: null,
    skipped: [],
    features: f.images,
  };
}

function precomputedFeatures(f: TextFeatures, dir: string): EncodedFeatures {
  return {
    global: f.images,
    patches: null,
    info: { name: "precomputed", options: { features: resolvePath(dir), layout: f.layout }, models: [], baseline: false },
    path: f.files.images ?? null,
    cached: false,
  };
}

const scores = (s: ClusteringScores): Scores => ({ acc: s.acc, nmi: s.nmi, ari: s.ari });

/** The contingency table as rows (clusters 0..k-1) of columns (classes), for run.json and the report. */
function confusionRows(s: ClusteringScores): number[][] {
  const { counts, classes, clusters } = s.contingency;
  return Array.from(clusters, (_, c) => Array.from(classes, (_, r) => counts[r * clusters.length + c]));
}
