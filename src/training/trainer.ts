/**
 * Trains the clustering heads of SATC/TAC (DESIGN 1.4): one head per view, each step a batch of
 * anchors and, per view, one neighbour of each anchor drawn at random from its top-k (k = 50) in
 * that view; loss over the view pairs; Adam; epochs with label-free early stopping. The answer is
 * the argmax of the first ("visual") view's head, in inference mode.
 *
 * Views are pluggable. A view gives its features (nSamples, nFeatures) and, optionally, its
 * neighbours and a trainable encoder that sits in front of the head (the spatial view's GAT):
 * the trainer asks the encoder for the head inputs of a step's items, and hands back dL/d(inputs)
 * so the encoder can update itself (end-to-end training).
 */
import { UsageError, expected } from "../errors.js";
import { mineNeighbors } from "../clustering/neighbors.js";
import type { Matrix } from "../util/matrix.js";
import { Random } from "../util/random.js";
import { headProbabilities, initHead, type HeadParams } from "./head.js";
import { TAC_ADAM, type AdamOptions } from "./reference.js";
import { TrainingStep } from "./step.js";

/**
 * A trainable module in front of a head (for example a GAT over each image's patch graph). It
 * owns its data and its optimiser; items are named by their index in the view.
 */
export interface ViewEncoder {
  /** Width of the encoder's output, the head's input. */
  readonly outDim: number;
  /**
   * Head inputs of the items, (indices.length, outDim). In training, indices are the step's
   * anchors followed by their neighbours in this view (2 x batch rows, the head sees them as two
   * BatchNorm batches); in "train" mode the encoder keeps what its backward needs, and the
   * trainer calls backward exactly once after each "train" forward. "eval" is for scoring.
   */
  forward(indices: Int32Array, mode: "train" | "eval"): Promise<Matrix>;
  /** dL/d(output of the last "train" forward), same shape; the encoder updates its parameters. */
  backward(gradOutput: Matrix): Promise<void>;
}

export interface View {
  /** "visual", "spatial", "textual", ... Pairs and the model refer to views by name. */
  name: string;
  /** (nSamples, nFeatures): the head's input when there is no encoder; mined for neighbours unless `neighbors` is given. */
  features: Matrix;
  /** (nSamples, k) neighbour indices, most similar first, self excluded; mined (cosine, top-k) when absent. */
  neighbors?: Int32Array;
  encoder?: ViewEncoder;
}

export interface TrainProgress {
  stage: "train";
  /** 1-based epoch just finished, and the most epochs allowed. */
  epoch: number;
  maxEpochs: number;
  /** Mean step loss of the epoch, and its parts (unweighted sums over pairs / views). */
  loss: number;
  distill: number;
  consist: number;
  entropy: number;
  /** Wall time of the epoch. */
  seconds: number;
}

export interface TrainOptions {
  /** Number of clusters K. */
  clusters: number;
  /** Seed of the run's generator (initialisation, shuffling, neighbour draws). Default 0. */
  seed?: number;
  /** Anchors per step (TAC: 512; drop-last as TAC's DataLoader). Default 512, lowered to nSamples when larger. */
  batchSize?: number;
  /**
   * Hidden width of every head (one width for all: the fused step needs it). Default: the first
   * view's input width, as TAC's ClusterHead (Linear(in_dim, in_dim) -> BatchNorm1d -> ReLU ->
   * Linear(in_dim, K), one in_dim for all heads); 512 for CLIP embeddings.
   * On Fashion-MNIST pixels (784-d) this measured better than 512 with the one-head loss
   * ("self"; 5 seeds, 20 epochs: 0.585 vs 0.562 test ACC, bench/spatial_fashion.ts).
   */
  hidden?: number;
  /** Distill temperature T. Default 0.5 (TAC uses 5.0 with batch 8192 for hundreds of clusters). */
  temperature?: number;
  /** lambda1, weight of Consist. Default 1. */
  consistWeight?: number;
  /** lambda2, weight of the entropy term. Default 5. */
  entropyWeight?: number;
  /**
   * View pairs by name. Default: every pair of distinct views; with a single view, see `singleView`.
   */
  pairs?: ReadonlyArray<readonly [string, string]>;
  /**
   * The loss of a single view (no `pairs` given):
   *  - "twin" (default): TAC's two-head loss with both heads reading the view: a second head on
   *    the same features and neighbours (its own initialisation and neighbour draws) is the other
   *    side of the pair, Distill(p1(anchor), p2(neighbour)) + Distill(p2(anchor), p1(neighbour)) +
   *    lambda1 Consist(p1(anchor), p2(anchor)) - lambda2 (H1 + H2); the first head answers.
   *  - "self": one head, Distill(p(anchor), p(neighbour)) + lambda1 Consist(p(anchor), p(neighbour)) - lambda2 H.
   * Measured on Fashion-MNIST pixels (train split, 20 epochs, test ACC): twin, seeds 0-9, mean
   * 0.573, its four lowest final losses 0.600-0.602; self, 10 seeds, 0.559 ± 0.030, its lowest
   * final losses 0.589-0.598. The twin's best runs (NMI/ARI 0.626/0.472, 0.621/0.469) are those of
   * a TAC-style PyTorch run on this view (0.619/0.467): TAC's own code run on one view is this
   * loss. A view with a trainable encoder trains "self" only.
   */
  singleView?: "twin" | "self";
  /** Neighbours mined per item when a view brings none. Default 50, or n - 1 for fewer than 51 items. */
  topK?: number;
  /** Most epochs. Default 200. */
  maxEpochs?: number;
  /** Stop after this many epochs without a decrease of the epoch loss. Default 10. */
  patience?: number;
  adam?: AdamOptions;
  /** View whose head gives the answer. Default: the first view. */
  predictView?: string;
  threads?: number;
  onProgress?: (event: TrainProgress | { stage: "neighbors"; view: string; done: number; total: number }) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  distill: number;
  consist: number;
  entropy: number;
  seconds: number;
}

/** What predictWithHeads needs: the heads and how they were trained. */
export interface HeadsModel {
  views: { name: string; inDim: number }[];
  heads: HeadParams[];
  clusters: number;
  predictView: string;
}

export interface TrainResult {
  /** (nSamples) argmax of the predict view's head (inference mode). */
  predictions: Int32Array;
  /** (nSamples) its largest probability. */
  confidence: Float32Array;
  /** Epochs run. */
  epochs: number;
  history: EpochRecord[];
  model: HeadsModel;
}

interface Resolved {
  clusters: number; seed: number; batchSize: number; hidden: number | undefined; temperature: number;
  consistWeight: number; entropyWeight: number; pairs: [number, number][]; twin: boolean; topK: number;
  maxEpochs: number; patience: number; adam: AdamOptions; predictView: number; threads?: number;
}

function positiveInt(value: unknown, option: string, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) throw new UsageError(expected(`an integer >= ${min}`, option, value));
  return value;
}

function resolve(views: View[], o: TrainOptions): Resolved {
  if (views.length === 0) throw new UsageError("trainHeads needs at least one view");
  const n = views[0].features.rows;
  const names = views.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new UsageError(`view names must be distinct, got ${names.join(", ")}`);
  for (const v of views) {
    if (v.features.rows !== n) throw new UsageError(`view '${v.name}' has ${v.features.rows} samples, view '${views[0].name}' has ${n}`);
  }
  const index = (name: string, option: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new UsageError(expected(`one of ${names.map((s) => `'${s}'`).join(", ")}`, option, name));
    return i;
  };
  const clusters = positiveInt(o.clusters, "clusters", 2);
  const batchSize = Math.min(positiveInt(o.batchSize ?? 512, "batchSize", 2), n);
  if (n < 2) throw new UsageError(`n_samples=${n} should be >= 2 to train heads`);
  // The default top-50 shrinks to what a small input has (n - 1 others); an explicit topK is checked below.
  const topK = o.topK === undefined ? Math.min(50, n - 1) : positiveInt(o.topK, "topK");
  for (const v of views) {
    if (v.neighbors) {
      if (v.neighbors.length % n !== 0 || v.neighbors.length === 0) {
        throw new UsageError(`neighbours of view '${v.name}' have ${v.neighbors.length} entries, not a multiple of n_samples=${n}`);
      }
    } else if (topK > n - 1) {
      throw new UsageError(`topK=${topK} neighbours need n_samples >= ${topK + 1}, view '${v.name}' has ${n}`);
    }
  }
  const singleView = o.singleView ?? "twin";
  if (singleView !== "twin" && singleView !== "self") throw new UsageError(expected("'twin' or 'self'", "singleView", singleView));
  const twin = !o.pairs && views.length === 1 && singleView === "twin";
  if (twin && views[0].encoder) throw new UsageError(`view '${views[0].name}' has a trainable encoder: a single such view trains with singleView 'self'`);
  // The twin head is view 1 of the training, after the real one.
  const pairs: [number, number][] = o.pairs
    ? o.pairs.map(([a, b]) => [index(a, "pairs"), index(b, "pairs")])
    : views.length === 1
      ? [twin ? [0, 1] : [0, 0]]
      : views.flatMap((_, a) => views.slice(a + 1).map((__, j) => [a, a + 1 + j] as [number, number]));
  const temperature = o.temperature ?? 0.5;
  if (!(temperature > 0)) throw new UsageError(expected("a positive number", "temperature", temperature));
  return {
    clusters, seed: o.seed ?? 0, batchSize, hidden: o.hidden === undefined ? undefined : positiveInt(o.hidden, "hidden"), temperature,
    consistWeight: o.consistWeight ?? 1, entropyWeight: o.entropyWeight ?? 5, pairs, twin, topK,
    maxEpochs: positiveInt(o.maxEpochs ?? 200, "maxEpochs"), patience: positiveInt(o.patience ?? 10, "patience"),
    adam: o.adam ?? TAC_ADAM, predictView: o.predictView === undefined ? 0 : index(o.predictView, "predictView"), threads: o.threads,
  };
}

/** Copy rows `index` of x (rows, cols) into out starting at row `at`. */
function gatherRows(x: Matrix, index: ArrayLike<number>, out: Float32Array, at: number): void {
  const d = x.cols;
  for (let r = 0; r < index.length; r++) {
    const i = index[r];
    out.set(x.data.subarray(i * d, (i + 1) * d), (at + r) * d);
  }
}

/**
 * Train one head per view on the views' items and return the predict view's clustering.
 * All views describe the same nSamples items in the same order.
 */
export async function trainHeads(givenViews: View[], options: TrainOptions): Promise<TrainResult> {
  const o = resolve(givenViews, options);
  const n = givenViews[0].features.rows;
  const rng = new Random(o.seed);

  const neighbors: { index: Int32Array; k: number }[] = [];
  for (const v of givenViews) {
    const index = v.neighbors ?? (await mineNeighbors(v.features, o.topK, {
      threads: o.threads,
      onProgress: (e) => options.onProgress?.({ stage: "neighbors", view: v.name, done: e.done, total: e.total }),
    }));
    neighbors.push({ index, k: index.length / n });
  }
  // The twin head of a single view reads the same features and neighbours (its own draws).
  const views = o.twin ? [givenViews[0], { ...givenViews[0], name: twinName(givenViews[0].name) }] : givenViews;
  if (o.twin) neighbors.push(neighbors[0]);

  const inDims = views.map((v) => v.encoder?.outDim ?? v.features.cols);
  const hidden = o.hidden ?? inDims[0];
  const heads = inDims.map((d) => initHead(d, hidden, o.clusters, rng));
  const B = o.batchSize;
  const step = await TrainingStep.create(heads, {
    batch: B, adam: o.adam, threads: o.threads,
    loss: { temperature: o.temperature, consistWeight: o.consistWeight, entropyWeight: o.entropyWeight, pairs: o.pairs },
    inputGradients: views.map((v) => v.encoder !== undefined),
  });

  const history: EpochRecord[] = [];
  const stepsPerEpoch = Math.floor(n / B);
  const items = new Int32Array(2 * B);
  const buffers = views.map((v, i) => (v.encoder ? undefined : new Float32Array(2 * B * inDims[i])));
  let best = Infinity, sinceBest = 0;
  try {
    for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
      const t0 = performance.now();
      const order = rng.permutation(n);
      const sum = { loss: 0, distill: 0, consist: 0, entropy: 0 };
      for (let s = 0; s < stepsPerEpoch; s++) {
        const anchors = order.subarray(s * B, (s + 1) * B);
        const inputs: Float32Array[] = [];
        for (let v = 0; v < views.length; v++) {
          const { index, k } = neighbors[v];
          items.set(anchors, 0);
          for (let a = 0; a < B; a++) items[B + a] = index[anchors[a] * k + rng.int(k)];
          const enc = views[v].encoder;
          if (enc) {
            const encoded = await enc.forward(items.slice(), "train");
            if (encoded.rows !== 2 * B || encoded.cols !== inDims[v]) {
              throw new RangeError(`encoder of view '${views[v].name}' returned (${encoded.rows}, ${encoded.cols}), expected (${2 * B}, ${inDims[v]})`);
            }
            inputs.push(encoded.data);
          } else {
            gatherRows(views[v].features, items, buffers[v]!, 0);
            inputs.push(buffers[v]!);
          }
        }
        const r = await step.run(inputs);
        for (let v = 0; v < views.length; v++) {
          const enc = views[v].encoder;
          if (enc) await enc.backward({ data: r.inputGradients[v]!, rows: 2 * B, cols: inDims[v] });
        }
        sum.loss += r.loss;
        sum.distill += r.distill;
        sum.consist += r.consist;
        sum.entropy += r.entropy;
      }
      const record: EpochRecord = {
        epoch, loss: sum.loss / stepsPerEpoch, distill: sum.distill / stepsPerEpoch, consist: sum.consist / stepsPerEpoch,
        entropy: sum.entropy / stepsPerEpoch, seconds: (performance.now() - t0) / 1000,
      };
      history.push(record);
      options.onProgress?.({ stage: "train", maxEpochs: o.maxEpochs, ...record });
      if (record.loss < best) {
        best = record.loss;
        sinceBest = 0;
      } else if (++sinceBest >= o.patience) {
        break;
      }
    }
  } finally {
    await step.release();
  }

  const model: HeadsModel = {
    views: views.map((v, i) => ({ name: v.name, inDim: inDims[i] })),
    heads, clusters: o.clusters, predictView: views[o.predictView].name,
  };
  const { predictions, confidence } = await predictWithHeads(model, views, { threads: o.threads });
  return { predictions, confidence, epochs: history.length, history, model };
}

/** Name of the second head that a single view trains with ("twin", see TrainOptions.singleView). */
export function twinName(view: string): string {
  return `${view} (twin)`;
}

/**
 * Cluster items with trained heads, BatchNorm in inference mode (running statistics): the
 * argmax of the predict view's head and its probability. `views` describe the items to score
 * (for example the test split); only the predict view is needed, found by name. A view with an
 * encoder is encoded in "eval" mode in chunks of `batchSize` items.
 */
export async function predictWithHeads(
  model: HeadsModel,
  views: View[],
  options: { batchSize?: number; threads?: number } = {},
): Promise<{ predictions: Int32Array; confidence: Float32Array; probabilities: Matrix }> {
  const vi = model.views.findIndex((v) => v.name === model.predictView);
  const view = views.find((v) => v.name === model.predictView);
  if (!view) throw new UsageError(`predictWithHeads needs the view '${model.predictView}', got ${views.map((v) => `'${v.name}'`).join(", ") || "none"}`);
  const head = model.heads[vi];
  let x = view.features;
  if (view.encoder) {
    const n = view.features.rows, chunk = options.batchSize ?? 4096;
    const data = new Float32Array(n * head.inDim);
    for (let start = 0; start < n; start += chunk) {
      const idx = Int32Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
      data.set((await view.encoder.forward(idx, "eval")).data, start * head.inDim);
    }
    x = { data, rows: n, cols: head.inDim };
  }
  if (x.cols !== head.inDim) throw new UsageError(`view '${view.name}' has ${x.cols} features, the trained head expects ${head.inDim}`);
  const probabilities = await headProbabilities(head, x, { threads: options.threads, batchSize: options.batchSize });
  const K = model.clusters;
  const predictions = new Int32Array(x.rows), confidence = new Float32Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probabilities.data[i * K + k] > probabilities.data[i * K + best]) best = k;
    predictions[i] = best;
    confidence[i] = probabilities.data[i * K + best];
  }
  return { predictions, confidence, probabilities };
}
