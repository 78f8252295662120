/**
 * A clustering head (TAC's ClusterHead, one per view):
 * Linear(inDim, hidden) -> BatchNorm1d(hidden) -> ReLU -> Linear(hidden, K) -> Softmax.
 * Parameters are float32 in PyTorch's layout (a Linear weight is (out, in)), so they can be
 * exchanged with TAC's state_dict.
 */
import { createSession, tensor } from "../onnx/session.js";
import type { ModelSpec } from "../onnx/graph.js";
import type { Matrix } from "../util/matrix.js";
import type { Random } from "../util/random.js";
import { GraphBuilder } from "./graph-builder.js";

export interface HeadParams {
  readonly inDim: number;
  readonly hidden: number;
  readonly clusters: number;
  /** (hidden, inDim) */
  w1: Float32Array;
  /** (hidden) */
  b1: Float32Array;
  /** BatchNorm scale, (hidden) */
  gamma: Float32Array;
  /** BatchNorm shift, (hidden) */
  beta: Float32Array;
  /** (clusters, hidden) */
  w2: Float32Array;
  /** (clusters) */
  b2: Float32Array;
  /** BatchNorm running statistics, (hidden) each; used in inference mode. */
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** The trainable parameters, in the order the training graph takes them. */
export const TRAINABLE = ["w1", "b1", "gamma", "beta", "w2", "b2"] as const;
export type TrainableName = (typeof TRAINABLE)[number];

export function paramShape(h: Pick<HeadParams, "inDim" | "hidden" | "clusters">, name: TrainableName): number[] {
  switch (name) {
    case "w1": return [h.hidden, h.inDim];
    case "w2": return [h.clusters, h.hidden];
    case "b2": return [h.clusters];
    default: return [h.hidden];
  }
}

/**
 * Truncated normal as PyTorch's/timm's trunc_normal_(std, a=-2, b=2): the bounds are absolute
 * values, so with std 0.02 the truncation practically never triggers; kept for fidelity.
 */
function truncNormal(rng: Random, n: number, std: number, a = -2, b = 2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x: number;
    do x = rng.normal() * std; while (x < a || x > b);
    out[i] = x;
  }
  return out;
}

/**
 * A freshly initialised head. As TAC: Linear weights truncated normal with std 0.02; TAC leaves
 * the Linear biases at PyTorch's default, uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)); BatchNorm
 * gamma 1, beta 0, running mean 0, running variance 1.
 */
export function initHead(inDim: number, hidden: number, clusters: number, rng: Random): HeadParams {
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * bound);
  const w1 = truncNormal(rng, hidden * inDim, 0.02);
  const b1 = uniform(hidden, 1 / Math.sqrt(inDim));
  const w2 = truncNormal(rng, clusters * hidden, 0.02);
  const b2 = uniform(clusters, 1 / Math.sqrt(hidden));
  return {
    inDim, hidden, clusters, w1, b1, w2, b2,
    gamma: new Float32Array(hidden).fill(1), beta: new Float32Array(hidden),
    runningMean: new Float32Array(hidden), runningVar: new Float32Array(hidden).fill(1),
  };
}

export function cloneHead(h: HeadParams): HeadParams {
  return {
    inDim: h.inDim, hidden: h.hidden, clusters: h.clusters,
    w1: h.w1.slice(), b1: h.b1.slice(), gamma: h.gamma.slice(), beta: h.beta.slice(), w2: h.w2.slice(), b2: h.b2.slice(),
    runningMean: h.runningMean.slice(), runningVar: h.runningVar.slice(),
  };
}

/** Inference-mode head graph: x (n, inDim) and the parameters as inputs -> probabilities (n, K). */
function inferenceGraph(inDim: number, hidden: number, clusters: number, eps: number): ModelSpec {
  const g = new GraphBuilder();
  const z1 = g.op("Gemm", ["x", "w1", "b1"], { transB: 1 });
  // (z - mean) / sqrt(var + eps) * gamma + beta, with the running statistics.
  const scale = g.div("gamma", g.op("Sqrt", [g.add("running_var", g.scalar(eps))]));
  const y = g.add(g.mul(g.sub(z1, "running_mean"), scale), "beta");
  const z2 = g.op("Gemm", [g.op("Relu", [y]), "w2", "b2"], { transB: 1 });
  g.op("Softmax", [z2], { axis: 1 }, "probs");
  const v = (name: string, shape: (number | string)[]) => ({ name, type: "float" as const, shape });
  return {
    inputs: [
      v("x", ["n", inDim]), v("w1", [hidden, inDim]), v("b1", [hidden]), v("gamma", [hidden]), v("beta", [hidden]),
      v("running_mean", [hidden]), v("running_var", [hidden]), v("w2", [clusters, hidden]), v("b2", [clusters]),
    ],
    outputs: [v("probs", ["n", clusters])],
    nodes: g.nodes,
    initializers: g.initializers,
  };
}

/**
 * Cluster probabilities of a head in inference mode (BatchNorm with its running statistics).
 * x: (nSamples, inDim) -> (nSamples, K). Runs in chunks of `batchSize` rows.
 */
export async function headProbabilities(head: HeadParams, x: Matrix, options: { batchSize?: number; threads?: number; eps?: number } = {}): Promise<Matrix> {
  if (x.cols !== head.inDim) throw new RangeError(`headProbabilities: features have ${x.cols} columns, the head expects ${head.inDim}`);
  const batch = options.batchSize ?? 4096;
  const session = await createSession(inferenceGraph(head.inDim, head.hidden, head.clusters, options.eps ?? 1e-5), { threads: options.threads });
  try {
    const K = head.clusters;
    const out = new Float32Array(x.rows * K);
    const fixed = {
      w1: tensor(head.w1, [head.hidden, head.inDim]), b1: tensor(head.b1, [head.hidden]),
      gamma: tensor(head.gamma, [head.hidden]), beta: tensor(head.beta, [head.hidden]),
      running_mean: tensor(head.runningMean, [head.hidden]), running_var: tensor(head.runningVar, [head.hidden]),
      w2: tensor(head.w2, [K, head.hidden]), b2: tensor(head.b2, [K]),
    };
    for (let start = 0; start < x.rows; start += batch) {
      const end = Math.min(x.rows, start + batch);
      const xs = x.data.subarray(start * x.cols, end * x.cols);
      const r = await session.run({ ...fixed, x: tensor(xs, [end - start, x.cols]) });
      out.set(r.probs.data as Float32Array, start * K);
    }
    return { data: out, rows: x.rows, cols: K };
  } finally {
    await session.release();
  }
}
