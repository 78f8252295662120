/**
 * The whole training step of all heads as one ONNX graph: forward of anchors and neighbours,
 * the loss (Distill, Consist, batch entropy over the view pairs), the hand-written backward
 * (as ONNX ops, the same formulas as reference.ts) and the Adam update. Parameters and Adam
 * moments are fed in and come back as outputs, so a step is one session.run.
 *
 * Why one graph and not one session per operation: measured with bench/train_ops.ts on the
 * 2-core development machine (two heads, 512-d, 512 anchors + 512 neighbours, hidden 512, K=10,
 * 2 threads, mean of 20 steps, cores shared with other jobs, load ~9): the fused step took
 * 144.5 ms; the per-operation design's 10 GEMM sessions alone took 342.6 ms, 395.5 ms with the
 * BatchNorm and Adam loops in float32 JS (a lower bound: softmax and losses left out). Each
 * separate run pays its call overhead, copies its inputs and allocates its outputs, and the
 * element-wise work left to JS is single-threaded; in one graph ONNX Runtime runs it all
 * multi-threaded with no round trips. An ONNX Runtime profile of the fused step (per-node minimum
 * over 10 runs) puts ~80% of kernel time in the four big GEMMs (forward x W1^T and dW1 per head),
 * which PyTorch must do too.
 *
 * Layout: the input of view v is x_v (2B, d_v): rows 0..B-1 are the anchors, B..2B-1 their
 * neighbours in that view. BatchNorm normalises anchors and neighbours as two separate batches
 * (as TAC calls the model twice per step), which the graph does by reshaping to (2, B, hidden).
 */
import type { ModelSpec, ValueSpec } from "../onnx/graph.js";
import { GraphBuilder } from "./graph-builder.js";
import { TRAINABLE, type TrainableName } from "./head.js";
import type { AdamOptions, LossSettings } from "./reference.js";

export interface StepGraphOptions {
  /** Anchors per step (the neighbours are as many). */
  batch: number;
  clusters: number;
  hidden: number;
  /** Input width of each view's head. */
  inDims: number[];
  loss: LossSettings;
  adam: AdamOptions;
  /** BatchNorm epsilon (PyTorch: 1e-5). */
  bnEps?: number;
  /** Per view: also output dL/dx_v (2B, d_v), for a trainable encoder in front of the head. */
  inputGradients?: boolean[];
  /** Also output the raw gradients of every parameter (tests). */
  gradients?: boolean;
}

/** Names of the graph's inputs and outputs for view v. */
export const names = {
  x: (v: number) => `x${v}`,
  param: (v: number, p: TrainableName) => `v${v}_${p}`,
  m: (v: number, p: TrainableName) => `v${v}_${p}_m`,
  s: (v: number, p: TrainableName) => `v${v}_${p}_v`,
  newParam: (v: number, p: TrainableName) => `v${v}_${p}_out`,
  newM: (v: number, p: TrainableName) => `v${v}_${p}_m_out`,
  newS: (v: number, p: TrainableName) => `v${v}_${p}_v_out`,
  grad: (v: number, p: TrainableName) => `v${v}_${p}_grad`,
  bnMean: (v: number) => `v${v}_bn_mean`,
  bnVar: (v: number) => `v${v}_bn_var`,
  dx: (v: number) => `dx${v}`,
  stepSize: "adam_step_size",
  invSqrtBc2: "adam_inv_sqrt_bc2",
  lossParts: "loss_parts",
};

function shapeOf(p: TrainableName, inDim: number, hidden: number, K: number): number[] {
  if (p === "w1") return [hidden, inDim];
  if (p === "w2") return [K, hidden];
  if (p === "b2") return [K];
  return [hidden];
}

export function buildStepGraph(o: StepGraphOptions): ModelSpec {
  const { batch: B, clusters: K, hidden: Hd } = o;
  const eps = o.bnEps ?? 1e-5;
  const V = o.inDims.length;
  const g = new GraphBuilder();
  const inputs: ValueSpec[] = [];
  const outputs: ValueSpec[] = [];
  const f = (name: string, shape: number[]): ValueSpec => ({ name, type: "float", shape });

  // ---- forward, per view
  interface Fwd { x: string; xc: string; invStd: string; scale: string; r: string; p: string; pA: string; pN: string }
  const fwd: Fwd[] = [];
  for (let v = 0; v < V; v++) {
    const d = o.inDims[v];
    inputs.push(f(names.x(v), [2 * B, d]));
    for (const p of TRAINABLE) {
      const shape = shapeOf(p, d, Hd, K);
      inputs.push(f(names.param(v, p), shape), f(names.m(v, p), shape), f(names.s(v, p), shape));
    }
    const P = (p: TrainableName) => names.param(v, p);
    const z1 = g.reshape(g.op("Gemm", [names.x(v), P("w1"), P("b1")], { transB: 1 }), [2, B, Hd]);
    const mean = g.reduceMean(z1, [1], true); // (2, 1, Hd)
    const xc = g.sub(z1, mean);
    const variance = g.reduceMean(g.mul(xc, xc), [1], true); // biased
    const invStd = g.op("Reciprocal", [g.op("Sqrt", [g.add(variance, g.scalar(eps))])]);
    // y = xhat * gamma + beta with xhat = xc * invStd, folded into one per-feature scale so the
    // big (2, B, hidden) tensor is touched by fewer element-wise passes.
    const scale = g.mul(invStd, P("gamma")); // (2, 1, Hd)
    const y = g.add(g.mul(xc, scale), P("beta"));
    const r = g.reshape(g.op("Relu", [y]), [2 * B, Hd]);
    const p = g.op("Softmax", [g.op("Gemm", [r, P("w2"), P("b2")], { transB: 1 })], { axis: 1 });
    g.op("Reshape", [mean, g.ints([2, Hd])], undefined, names.bnMean(v));
    g.op("Reshape", [variance, g.ints([2, Hd])], undefined, names.bnVar(v));
    outputs.push(f(names.bnMean(v), [2, Hd]), f(names.bnVar(v), [2, Hd]));
    fwd.push({ x: names.x(v), xc, invStd, scale, r, p, pA: g.slice(p, 0, B, 0), pN: g.slice(p, B, 2 * B, 0) });
  }

  // ---- losses and dL/dP
  const dA: string[][] = fwd.map(() => []);
  const dN: string[][] = fwd.map(() => []);
  const distillTerms: string[] = [], consistTerms: string[] = [], entropyTerms: string[] = [];

  const N = 2 * K;
  const diagMask = new Float32Array(N * N), posMask = new Float32Array(N * N);
  for (let a = 0; a < N; a++) {
    diagMask[a * N + a] = -1e9;
    posMask[a * N + ((a + K) % N)] = 1;
  }
  const diagMaskC = g.constant(diagMask, [N, N], "diag_mask");
  const posMaskC = g.constant(posMask, [N, N], "pos_mask");
  const invT = 1 / o.loss.temperature;

  /** Distill(P, Q): adds the loss to distillTerms and returns [dP, dQ] (B, K). */
  const distill = (P: string, Q: string): [string, string] => {
    const c = g.op("Concat", [g.transpose(P), g.transpose(Q)], { axis: 0 }); // (2K, B)
    const norm = g.op("Max", [g.op("ReduceL2", [c], { axes: [1], keepdims: 1 }), g.scalar(1e-12)]);
    const ch = g.div(c, norm);
    const S = g.scale(g.matmul(ch, g.transpose(ch)), invT);
    const Sm = g.add(S, diagMaskC);
    const lse = g.op("ReduceLogSumExp", [Sm], { axes: [1], keepdims: 1 });
    const pos = g.reduceSum(g.mul(S, posMaskC), [1], true);
    distillTerms.push(g.reduceMean(g.sub(lse, pos), [0, 1], false));
    const G = g.scale(g.sub(g.op("Softmax", [Sm], { axis: 1 }), posMaskC), 1 / N);
    const dch = g.scale(g.matmul(g.add(G, g.transpose(G)), ch), invT);
    const dot = g.reduceSum(g.mul(ch, dch), [1], true);
    const dc = g.div(g.sub(dch, g.mul(ch, dot)), norm);
    return [g.transpose(g.slice(dc, 0, K, 0)), g.transpose(g.slice(dc, K, N, 0))];
  };

  /** Consist(P, Q) (PyTorch's BCE against 1): adds the loss, returns [dP, dQ] scaled by lambda1. */
  const consist = (P: string, Q: string): [string, string] => {
    const s = g.reduceSum(g.mul(P, Q), [1], true); // (B, 1)
    consistTerms.push(g.op("Neg", [g.reduceMean(g.op("Max", [g.op("Log", [s]), g.scalar(-100)]), [0, 1], false)]));
    // dL/ds = (s - 1) / max((1 - s) s, 1e-12) / B
    const one = g.scalar(1);
    const denom = g.op("Max", [g.mul(g.sub(one, s), s), g.scalar(1e-12)]);
    const ds = g.scale(g.div(g.sub(s, one), denom), o.loss.consistWeight / B);
    return [g.mul(ds, Q), g.mul(ds, P)];
  };

  for (const [a, b] of o.loss.pairs) {
    if (a === b) {
      const [dP, dQ] = distill(fwd[a].pA, fwd[a].pN);
      dA[a].push(dP);
      dN[a].push(dQ);
      const [cP, cQ] = consist(fwd[a].pA, fwd[a].pN);
      dA[a].push(cP);
      dN[a].push(cQ);
    } else {
      const [d1P, d1Q] = distill(fwd[a].pA, fwd[b].pN);
      dA[a].push(d1P);
      dN[b].push(d1Q);
      const [d2P, d2Q] = distill(fwd[b].pA, fwd[a].pN);
      dA[b].push(d2P);
      dN[a].push(d2Q);
      const [cP, cQ] = consist(fwd[a].pA, fwd[b].pA);
      dA[a].push(cP);
      dA[b].push(cQ);
    }
  }
  for (let v = 0; v < V; v++) {
    // H = -sum m log m, m = clamp(mean over anchors, 1e-9); dL/dP = -lambda2 dH/dm / B
    const m = g.reduceMean(fwd[v].pA, [0], true); // (1, K)
    const mc = g.op("Max", [m, g.scalar(1e-9)]);
    const logm = g.op("Log", [mc]);
    entropyTerms.push(g.op("Neg", [g.reduceSum(g.mul(mc, logm), [0, 1], false)]));
    const dm = g.op("Where", [g.op("Less", [m, g.scalar(1e-9)]), g.scalar(0), g.add(logm, g.scalar(1))]);
    // -lambda2 * dH/dm = -lambda2 * (-(log m + 1)) = lambda2 (log m + 1)
    dA[v].push(g.scale(dm, o.loss.entropyWeight / B));
  }
  const distillSum = distillTerms.length ? g.sumAll(distillTerms) : g.scalar(0);
  const consistSum = consistTerms.length ? g.sumAll(consistTerms) : g.scalar(0);
  const entropySum = g.sumAll(entropyTerms);
  const total = g.sub(g.add(distillSum, g.scale(consistSum, o.loss.consistWeight)), g.scale(entropySum, o.loss.entropyWeight));
  const parts = [total, distillSum, consistSum, entropySum].map((t) => g.reshape(t, [1]));
  g.op("Concat", parts, { axis: 0 }, names.lossParts);
  outputs.push(f(names.lossParts, [4]));

  // ---- backward and Adam, per view
  const beta1 = o.adam.beta1, beta2 = o.adam.beta2;
  inputs.push(f(names.stepSize, [1]), f(names.invSqrtBc2, [1]));
  const zerosBK = g.constant(new Float32Array(B * K), [B, K], "zeros");
  for (let v = 0; v < V; v++) {
    const d = o.inDims[v];
    const P = (p: TrainableName) => names.param(v, p);
    const { xc, invStd, scale, r, p } = fwd[v];
    // The entropy term has shape (1, K): add it to the anchors' gradient by broadcasting.
    const dPA = dA[v].length ? g.add(zerosBK, g.sumAll(dA[v])) : zerosBK;
    const dPN = dN[v].length ? g.sumAll(dN[v]) : zerosBK;
    const dP = g.op("Concat", [dPA, dPN], { axis: 0 }); // (2B, K)
    const dz2 = g.mul(p, g.sub(dP, g.reduceSum(g.mul(p, dP), [1], true)));
    const grads: Record<TrainableName, string> = {} as Record<TrainableName, string>;
    grads.w2 = g.op("Gemm", [dz2, r], { transA: 1 });
    grads.b2 = g.reduceSum(dz2, [0], false);
    const dr = g.matmul(dz2, P("w2"));
    const dy = g.reshape(g.mul(dr, g.op("Sign", [r])), [2, B, Hd]);
    // BatchNorm backward per half (anchors, neighbours), with s1 = sum_i dy, s2 = sum_i dy * xc:
    //   dgamma = sum_halves invStd * s2, dbeta = sum_halves s1,
    //   dz1 = scale * (dy - s1 / B - xc * invStd^2 * s2 / B) = dy * scale + xc * c2 + c0.
    const s1 = g.reduceSum(dy, [1], true); // (2, 1, Hd)
    const s2 = g.reduceSum(g.mul(dy, xc), [1], true);
    grads.gamma = g.reduceSum(g.mul(s2, invStd), [0, 1], false);
    grads.beta = g.reduceSum(s1, [0, 1], false);
    const c2 = g.scale(g.mul(g.mul(scale, g.mul(invStd, invStd)), s2), -1 / B);
    const c0 = g.scale(g.mul(scale, s1), -1 / B);
    const dz1 = g.reshape(g.add(g.add(g.mul(dy, scale), g.mul(xc, c2)), c0), [2 * B, Hd]);
    grads.w1 = g.op("Gemm", [dz1, names.x(v)], { transA: 1 });
    grads.b1 = g.reduceSum(dz1, [0], false);
    if (o.inputGradients?.[v]) {
      g.op("MatMul", [dz1, P("w1")], undefined, names.dx(v));
      outputs.push(f(names.dx(v), [2 * B, d]));
    }
    for (const name of TRAINABLE) {
      const shape = shapeOf(name, d, Hd, K);
      const grad = grads[name];
      if (o.gradients) {
        g.op("Identity", [grad], undefined, names.grad(v, name));
        outputs.push(f(names.grad(v, name), shape));
      }
      // torch.optim.Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
      // p -= step_size * m / (sqrt(v) / sqrt(bias_correction2) + eps), step_size = lr / bias_correction1.
      const m = g.op("Add", [g.scale(names.m(v, name), beta1), g.scale(grad, 1 - beta1)], undefined, names.newM(v, name));
      const s = g.op("Add", [g.scale(names.s(v, name), beta2), g.scale(g.mul(grad, grad), 1 - beta2)], undefined, names.newS(v, name));
      const denom = g.add(g.mul(g.op("Sqrt", [s]), names.invSqrtBc2), g.scalar(o.adam.eps));
      g.op("Sub", [P(name), g.mul(g.div(m, denom), names.stepSize)], undefined, names.newParam(v, name));
      outputs.push(f(names.newParam(v, name), shape), f(names.newM(v, name), shape), f(names.newS(v, name), shape));
    }
  }
  return { inputs, outputs, nodes: g.nodes, initializers: g.initializers, name: "satc_train_step" };
}
