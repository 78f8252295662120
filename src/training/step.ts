/**
 * Runs the fused training step (step-graph.ts) in onnxruntime-node and keeps the state between
 * steps: head parameters, Adam moments, the step count and BatchNorm running statistics.
 */
import { createSession, tensor, type ort } from "../onnx/session.js";
import { paramShape, TRAINABLE, type HeadParams, type TrainableName } from "./head.js";
import { buildStepGraph, names } from "./step-graph.js";
import { TAC_ADAM, updateRunningStats, type AdamOptions, type LossSettings } from "./reference.js";

export interface TrainingStepOptions {
  /** Anchors per step. */
  batch: number;
  loss: LossSettings;
  adam?: AdamOptions;
  /** Per view: return dL/dx for a trainable encoder in front of the head. */
  inputGradients?: boolean[];
  /** Return the raw parameter gradients (tests). */
  gradients?: boolean;
  threads?: number;
  bnEps?: number;
  /** BatchNorm running-statistics momentum (PyTorch: 0.1). */
  bnMomentum?: number;
}

export interface StepResult {
  loss: number;
  distill: number;
  consist: number;
  entropy: number;
  /** Per view, when asked for: dL/dx (2B, d), anchors then neighbours. */
  inputGradients: (Float32Array | undefined)[];
  /** Per view, when asked for: gradients of the parameters before the update. */
  gradients?: Record<TrainableName, Float32Array>[];
}

export class TrainingStep {
  /** Adam step count (torch's state['step']). */
  t = 0;
  private readonly m: Record<TrainableName, Float32Array>[];
  private readonly s: Record<TrainableName, Float32Array>[];

  private constructor(
    readonly heads: HeadParams[],
    private readonly session: ort.InferenceSession,
    private readonly options: TrainingStepOptions & { adam: AdamOptions },
  ) {
    const zeros = (h: HeadParams) => Object.fromEntries(TRAINABLE.map((p) => [p, new Float32Array(h[p].length)])) as Record<TrainableName, Float32Array>;
    this.m = heads.map(zeros);
    this.s = heads.map(zeros);
  }

  /** Build the graph for these heads (all with the same hidden width and K) and open its session. */
  static async create(heads: HeadParams[], options: TrainingStepOptions): Promise<TrainingStep> {
    if (heads.length === 0) throw new RangeError("TrainingStep: no heads");
    const { hidden, clusters } = heads[0];
    for (const h of heads) {
      if (h.hidden !== hidden || h.clusters !== clusters) {
        throw new RangeError(`TrainingStep: heads differ in hidden width or clusters (${h.hidden}/${h.clusters} vs ${hidden}/${clusters})`);
      }
    }
    const adam = options.adam ?? TAC_ADAM;
    const spec = buildStepGraph({
      batch: options.batch, clusters, hidden, inDims: heads.map((h) => h.inDim), loss: options.loss, adam,
      bnEps: options.bnEps, inputGradients: options.inputGradients, gradients: options.gradients,
    });
    const session = await createSession(spec, { threads: options.threads });
    return new TrainingStep(heads, session, { ...options, adam });
  }

  /**
   * One step. inputs[v]: (2B, d_v), rows 0..B-1 the anchors, B..2B-1 their neighbours in view v.
   * Updates the heads' parameters and running statistics in place (the arrays are replaced).
   */
  async run(inputs: Float32Array[]): Promise<StepResult> {
    const { batch: B, adam } = this.options;
    const feeds: Record<string, ort.Tensor> = {};
    this.heads.forEach((h, v) => {
      if (inputs[v].length !== 2 * B * h.inDim) {
        throw new RangeError(`TrainingStep.run: view ${v} input has ${inputs[v].length} values, expected 2*${B}*${h.inDim}`);
      }
      feeds[names.x(v)] = tensor(inputs[v], [2 * B, h.inDim]);
      for (const p of TRAINABLE) {
        const shape = paramShape(h, p);
        feeds[names.param(v, p)] = tensor(h[p], shape);
        feeds[names.m(v, p)] = tensor(this.m[v][p], shape);
        feeds[names.s(v, p)] = tensor(this.s[v][p], shape);
      }
    });
    const t = this.t + 1;
    feeds[names.stepSize] = tensor(Float32Array.of(adam.lr / (1 - adam.beta1 ** t)), [1]);
    feeds[names.invSqrtBc2] = tensor(Float32Array.of(1 / Math.sqrt(1 - adam.beta2 ** t)), [1]);
    const out = await this.session.run(feeds);
    this.t = t;
    const data = (name: string) => out[name].data as Float32Array;
    const gradients = this.options.gradients ? this.heads.map(() => ({} as Record<TrainableName, Float32Array>)) : undefined;
    this.heads.forEach((h, v) => {
      for (const p of TRAINABLE) {
        h[p] = data(names.newParam(v, p));
        this.m[v][p] = data(names.newM(v, p));
        this.s[v][p] = data(names.newS(v, p));
        if (gradients) gradients[v][p] = data(names.grad(v, p));
      }
      // Running statistics: anchors' batch first, then the neighbours' (TAC's two model calls).
      const mean = data(names.bnMean(v)), variance = data(names.bnVar(v)), Hd = h.hidden;
      for (let half = 0; half < 2; half++) {
        updateRunningStats(h.runningMean, h.runningVar, mean.subarray(half * Hd, (half + 1) * Hd), variance.subarray(half * Hd, (half + 1) * Hd), B, this.options.bnMomentum);
      }
    });
    const parts = data(names.lossParts);
    return {
      loss: parts[0], distill: parts[1], consist: parts[2], entropy: parts[3],
      inputGradients: this.heads.map((_, v) => (this.options.inputGradients?.[v] ? data(names.dx(v)) : undefined)),
      gradients,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
