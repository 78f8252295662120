/**
 * The SATC method's training (DESIGN 1.4) over its three views: visual (the global embedding),
 * spatial (an encoder over each image's patch graph, trained end to end with its head) and,
 * when the text selector keeps it, textual. Pairs: visual-spatial always, visual-text and
 * spatial-text with text. The answer is the visual head's argmax.
 *
 * The spatial slot is switchable for the ablation (DESIGN 1.3): "gat" (default), "gcn",
 * "transformer", "mean" (the mean of the node features as a fixed view, no graph: a Linear in
 * front of the head's own Linear would add nothing) and "none" (no spatial view).
 *
 * Neighbours of the spatial view (each view mines its own top-k, cosine): from a fixed,
 * label-free description of the nodes, not from the encoder's output (which is random at the
 * start and changes while training). Two choices, `spatialNeighbors`:
 *  - "pooled": the mean of the node features, (n, c). For ResNet-50 this is the ImageNet
 *    global-pooled feature, the natural choice. For the pixels grid it is a 16-d average tile,
 *    which forgets where things are.
 *  - "flat": all node features side by side, (n, N * c): keeps the layout.
 * Default: "flat" when N * c <= 4096 (the pixels grid: 784; ResNet after reduction to 64: 3136),
 * else "pooled". See bench/spatial_fashion.ts for the measured difference.
 */
import { UsageError, expected } from "../errors.js";
import { mineNeighbors } from "../clustering/neighbors.js";
import { predictWithHeads, trainHeads, type HeadsModel, type TrainOptions, type TrainResult, type View } from "../training/trainer.js";
import type { Matrix } from "../util/matrix.js";
import { Random } from "../util/random.js";
import { buildPatchGraph, type PatchGraph, type PatchNodes } from "./graph.js";
import { SpatialEncoder, spatialEncoderNames, usesGraph, type SpatialEncoderName } from "./encoders.js";
import { applyChannelReduction, fitChannelReduction, type ChannelReduction, type ReductionOptions } from "./reduce.js";

export const spatialVariants = ["gat", "gcn", "transformer", "mean", "none"] as const;
export type SpatialVariant = (typeof spatialVariants)[number];

export interface SatcInputs {
  /** Visual view: (nSamples, dVisual), e.g. CLIP image embeddings or the pixels encoder's global view. */
  global: Matrix;
  /** Patch nodes of every image, (nSamples, nNodes, nChannels); required unless spatial is "none". */
  patches?: PatchNodes | null;
  /** Textual view (nSamples, dText), only when the text selector keeps text. */
  text?: Matrix | null;
  /** Precomputed neighbours per view ((nSamples, k), self excluded), to skip mining. */
  neighbors?: { visual?: Int32Array; spatial?: Int32Array; text?: Int32Array };
}

export type SatcProgress =
  | (Parameters<NonNullable<TrainOptions["onProgress"]>>[0] & { restart?: number; restarts?: number })
  | { stage: "patch-graph"; done: number; total: number }
  | { stage: "reduce"; method: string; inChannels: number; outChannels: number };

export interface SatcOptions extends Omit<TrainOptions, "pairs" | "predictView" | "onProgress"> {
  /** Spatial encoder (or "mean" / "none"). Default "gat". */
  spatial?: SpatialVariant;
  /** Graph neighbours per node besides the self loop. Default 8. */
  graphK?: number;
  /** Attention heads (gat, transformer). Default 4. */
  encoderHeads?: number;
  /** Width per head (gcn: the output width). Default 32 (gcn 128). */
  encoderHeadDim?: number;
  /**
   * Append a one-hot of the cell index to each node's features (a learned per-cell embedding).
   * Default true: on Fashion-MNIST pixels (10k items, 15 epochs, one seed) the GAT's test ACC went
   * from 0.512 to 0.541 with it; a mean over nodes forgets the layout otherwise.
   */
  positions?: boolean;
  /** Channel reduction of wide nodes before training (false: none). Default { channels: 64, method: "pca" }. */
  reduce?: ReductionOptions | false;
  /** Features mined for the spatial view's neighbours (see the module comment). */
  spatialNeighbors?: "pooled" | "flat";
  /** Separate Adam settings for the encoder. Default: the heads' (TAC_ADAM). */
  encoderAdam?: TrainOptions["adam"];
  /**
   * Independent trainings (fresh heads and encoder, each its own seed; the same views, patch
   * graph and neighbours), of which the one with the lowest final epoch loss is kept. Label-free,
   * as SCAN keeps the lowest-loss of its heads. Default 1.
   */
  restarts?: number;
  onProgress?: (event: SatcProgress) => void;
}

export interface SatcModel {
  heads: HeadsModel;
  spatial: SpatialVariant;
  /** The trained spatial encoder (gat, gcn, transformer), over the training nodes. */
  encoder: SpatialEncoder | null;
  reduction: ChannelReduction | null;
  /** Views trained and the pairs of the loss. */
  views: string[];
  pairs: [string, string][];
  spatialNeighbors: "pooled" | "flat" | null;
}

export interface SatcResult extends Omit<TrainResult, "model"> {
  model: SatcModel;
  /** Every restart: its seed, final epoch loss and epochs; `kept` is the index of the one returned. */
  restarts: { seed: number; loss: number; epochs: number }[];
  kept: number;
}

/** Seed of restart r of a run seeded `seed`: the run's own seed first, then seeds no other run's first restart uses. */
export function restartSeed(seed: number, r: number): number {
  return r === 0 ? seed : seed + 1_000_003 * r;
}

/** Mean over nodes: (n, N, c) -> (n, c). */
export function poolNodes(nodes: PatchNodes): Matrix {
  const [n, N, c] = nodes.shape;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) for (let u = 0; u < N; u++) {
    const o = (i * N + u) * c;
    for (let j = 0; j < c; j++) out[i * c + j] += nodes.data[o + j] / N;
  }
  return { data: out, rows: n, cols: c };
}

/**
 * Train SATC's heads (and the spatial encoder) on the inputs; returns the visual head's
 * clustering of the same items and the model (score other items with predictSatc).
 */
export async function trainSatc(inputs: SatcInputs, options: SatcOptions): Promise<SatcResult> {
  const spatial = options.spatial ?? "gat";
  if (!spatialVariants.includes(spatial)) throw new UsageError(expected(`one of ${spatialVariants.join(", ")}`, "--spatial", spatial));
  const restarts = options.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new UsageError(expected("an integer >= 1", "restarts", restarts));
  const n = inputs.global.rows;
  const seed = options.seed ?? 0;
  // What every restart shares: the views, their neighbours, the reduced nodes and their graph.
  const views: View[] = [{ name: "visual", features: inputs.global, neighbors: inputs.neighbors?.visual }];
  let reduction: ChannelReduction | null = null;
  let spatialNeighbors: SatcModel["spatialNeighbors"] = null;
  let encoderInput: { nodes: PatchNodes; graph: PatchGraph | null } | null = null;
  if (spatial !== "none") {
    let nodes = inputs.patches;
    if (!nodes) throw new UsageError(`the spatial view '${spatial}' needs patch nodes; the encoder gives none (use --spatial none)`);
    if (nodes.shape[0] !== n) throw new UsageError(`patch nodes have ${nodes.shape[0]} images, the visual view has ${n}`);
    if (options.reduce !== false) {
      reduction = await fitChannelReduction(nodes, { threads: options.threads, seed, ...options.reduce });
      if (reduction.method !== "identity") {
        options.onProgress?.({ stage: "reduce", method: reduction.method, inChannels: reduction.inChannels, outChannels: reduction.outChannels });
        nodes = await applyChannelReduction(nodes, reduction, { threads: options.threads });
      }
    }
    const [, N, c] = nodes.shape;
    spatialNeighbors = options.spatialNeighbors ?? (N * c <= 4096 ? "flat" : "pooled");
    const mined: Matrix = spatialNeighbors === "flat" ? { data: nodes.data, rows: n, cols: N * c } : poolNodes(nodes);
    if (spatial === "mean") {
      // Mined on the same description as the encoders' views, so the ablation changes one thing.
      const neighbors = inputs.neighbors?.spatial ?? (spatialNeighbors === "flat" ? await mineFor(mined, options) : undefined);
      views.push({ name: "spatial", features: poolNodes(nodes), neighbors });
    } else {
      let graph: PatchGraph | null = null;
      if (usesGraph(spatial as SpatialEncoderName)) {
        graph = await buildPatchGraph(nodes, { k: options.graphK ?? 8, threads: options.threads, onProgress: (e) => options.onProgress?.(e) });
      }
      encoderInput = { nodes, graph };
      views.push({ name: "spatial", features: mined, neighbors: inputs.neighbors?.spatial });
    }
  }
  if (inputs.text) {
    if (inputs.text.rows !== n) throw new UsageError(`the text view has ${inputs.text.rows} rows, the visual view has ${n}`);
    views.push({ name: "text", features: inputs.text, neighbors: inputs.neighbors?.text });
  }
  if (restarts > 1) {
    // Mine once for all restarts (trainHeads would mine again for each).
    for (const v of views) {
      v.neighbors ??= await mineNeighbors(v.features, options.topK ?? Math.min(50, n - 1), {
        threads: options.threads,
        onProgress: (e) => options.onProgress?.({ stage: "neighbors", view: v.name, done: e.done, total: e.total }),
      });
    }
  }
  const names = views.map((v) => v.name);
  const pairs: [string, string][] = [];
  for (let a = 0; a < names.length; a++) for (let b = a + 1; b < names.length; b++) pairs.push([names[a], names[b]]);
  const { onProgress, ...rest } = options;

  let best: { result: TrainResult; encoder: SpatialEncoder | null } | null = null;
  const tried: SatcResult["restarts"] = [];
  let kept = 0;
  for (let r = 0; r < restarts; r++) {
    const runSeed = restartSeed(seed, r);
    let encoder: SpatialEncoder | null = null;
    try {
      if (encoderInput) {
        encoder = await SpatialEncoder.create(spatial as SpatialEncoderName, encoderInput.nodes, encoderInput.graph, new Random(runSeed + 7919), {
          heads: options.encoderHeads, headDim: options.encoderHeadDim, positions: options.positions ?? true,
          adam: options.encoderAdam ?? options.adam, threads: options.threads,
        });
      }
      const runViews = views.map((v) => (v.name === "spatial" && encoder ? { ...v, encoder } : v));
      const result = await trainHeads(runViews, {
        ...rest, seed: runSeed, pairs: pairs.length ? pairs : undefined, predictView: "visual",
        onProgress: onProgress && ((e) => onProgress(restarts > 1 ? { ...e, restart: r, restarts } : e)),
      });
      const loss = result.history[result.history.length - 1].loss;
      tried.push({ seed: runSeed, loss, epochs: result.epochs });
      if (!best || loss < tried[kept].loss) {
        await best?.encoder?.release();
        best = { result, encoder };
        kept = r;
      } else {
        await encoder?.release();
      }
    } catch (err) {
      await encoder?.release();
      await best?.encoder?.release();
      throw err;
    }
  }
  const { result, encoder } = best!;
  return {
    ...result,
    model: { heads: result.model, spatial, encoder, reduction, views: names, pairs, spatialNeighbors },
    restarts: tried,
    kept,
  };
}

async function mineFor(x: Matrix, options: SatcOptions): Promise<Int32Array> {
  return mineNeighbors(x, options.topK ?? Math.min(50, x.rows - 1), { threads: options.threads });
}

/**
 * Cluster other items (for example the test split) with a trained model: the visual head in
 * inference mode, so only the visual features are needed. Returns (nSamples) cluster numbers
 * and their probabilities.
 */
export async function predictSatc(model: SatcModel, global: Matrix, options: { threads?: number; batchSize?: number } = {}) {
  return predictWithHeads(model.heads, [{ name: "visual", features: global }], options);
}

/** Release the sessions of a trained model's encoder. */
export async function releaseSatc(model: SatcModel): Promise<void> {
  await model.encoder?.release();
}

export { spatialEncoderNames };
