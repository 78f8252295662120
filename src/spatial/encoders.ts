/**
 * Spatial encoders (DESIGN 1.3): a trainable module that turns one image's patch graph into the
 * spatial head's input, trained end to end with the head (a ViewEncoder of the training engine).
 *
 *   gat          x'_u = ELU(concat_h sum_v alpha^h_uv W^h x_v + b), alpha^h_u = softmax over the
 *                node's neighbours v (self loop included) of LeakyReLU_0.2(a_src^h . W^h x_u + a_dst^h . W^h x_v);
 *                heads concatenated; then the mean over nodes.
 *   gcn          x'_u = ELU(W (mean of x_v over the neighbours v of u, self included) + b); mean over nodes.
 *   transformer  one layer of multi-head scaled dot-product self-attention over all nodes of the
 *                image: x'_u = ELU(concat_h sum_v softmax_v(q_u . k_v / sqrt(F)) v_v + b); mean over nodes.
 *
 * (`mean` and `none` have no parameters and need no encoder: see method.ts.)
 *
 * Inputs per image: node features X (N, c) and the graph as a dense additive mask (N, N) (0 on
 * edges, -1e9 elsewhere). With `positions`, a one-hot of the node's cell index is appended to
 * its features inside the graph (X' = [X | I_N], c' = c + N): W then learns a per-cell
 * embedding, the way ViT adds position embeddings, without storing wider features.
 *
 * Everything heavy runs in onnxruntime-node: a forward graph (any batch size), and a training
 * graph that recomputes the forward, applies the hand-written backward (the same formulas as
 * reference.ts, checked against finite differences in the tests) and the Adam update.
 * Parameters and moments go in and come back out, as in the training step of the heads.
 */
import { UsageError, expected } from "../errors.js";
import type { ModelSpec, ValueSpec } from "../onnx/graph.js";
import { createSession, tensor, type ort } from "../onnx/session.js";
import { GraphBuilder } from "../training/graph-builder.js";
import { TAC_ADAM, type AdamOptions } from "../training/reference.js";
import type { ViewEncoder } from "../training/trainer.js";
import type { Matrix } from "../util/matrix.js";
import type { Random } from "../util/random.js";
import { graphMasks, type PatchGraph, type PatchNodes } from "./graph.js";

export const spatialEncoderNames = ["gat", "gcn", "transformer"] as const;
export type SpatialEncoderName = (typeof spatialEncoderNames)[number];

export interface SpatialEncoderConfig {
  kind: SpatialEncoderName;
  /** Nodes per image N. */
  nodes: number;
  /** Channels per node c (before the optional position one-hot). */
  channels: number;
  /** Attention heads H (gat, transformer); 1 for gcn. */
  heads: number;
  /** Width per head F; the output width is heads * headDim. */
  headDim: number;
  /** Append a one-hot of the node's cell index to its features. */
  positions: boolean;
}

export type EncoderParams = Record<string, Float32Array>;

/** Width of a node's input features inside the graph, c' = c (+ N with positions). */
export function inputWidth(cfg: SpatialEncoderConfig): number {
  return cfg.channels + (cfg.positions ? cfg.nodes : 0);
}

export function outputWidth(cfg: SpatialEncoderConfig): number {
  return cfg.heads * cfg.headDim;
}

/** The encoder's parameters and their shapes, in a fixed order. */
export function encoderParamShapes(cfg: SpatialEncoderConfig): [string, number[]][] {
  const D = outputWidth(cfg), c = inputWidth(cfg);
  switch (cfg.kind) {
    case "gat": return [["w", [D, c]], ["a_src", [cfg.heads, cfg.headDim]], ["a_dst", [cfg.heads, cfg.headDim]], ["bias", [D]]];
    case "gcn": return [["w", [D, c]], ["bias", [D]]];
    case "transformer": return [["wq", [D, c]], ["wk", [D, c]], ["wv", [D, c]], ["bias", [D]]];
  }
}

/** Whether the encoder reads the patch graph (the transformer attends to all nodes). */
export function usesGraph(kind: SpatialEncoderName): boolean {
  return kind !== "transformer";
}

/**
 * Fresh parameters: Glorot-uniform weights and attention vectors (as PyTorch Geometric's
 * GATConv: the attention vector's fans are H and F), zero bias.
 */
export function initEncoderParams(cfg: SpatialEncoderConfig, rng: Random): EncoderParams {
  const out: EncoderParams = {};
  for (const [name, shape] of encoderParamShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name === "bias") {
      out[name] = new Float32Array(size);
      continue;
    }
    const bound = Math.sqrt(6 / (shape[0] + shape[1]));
    out[name] = Float32Array.from({ length: size }, () => (2 * rng.next() - 1) * bound);
  }
  return out;
}

export function validateConfig(cfg: SpatialEncoderConfig): void {
  if (!spatialEncoderNames.includes(cfg.kind)) throw new UsageError(expected(`one of ${spatialEncoderNames.join(", ")}`, "spatial encoder", cfg.kind));
  for (const key of ["nodes", "channels", "heads", "headDim"] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new UsageError(expected("a positive integer", `spatial encoder ${key}`, cfg[key]));
  }
  if (cfg.kind === "gcn" && cfg.heads !== 1) throw new UsageError(expected("1 for gcn", "spatial encoder heads", cfg.heads));
}

interface Forward {
  /** (b, 1, N, c') node inputs, one broadcast slot for the heads. */
  x4: string;
  /** (b, H, N, F) pre-activation. */
  pre: string;
  z: string;
  /** Per-kind values the backward needs. */
  saved: Record<string, string>;
}

/*
 * Layout: every per-node tensor is kept as (b, H, N, F) (gcn: H = 1, F = D) so no transposes of
 * big tensors are needed: a projection is MatMul((b, 1, N, c'), (H, c', F)), the bias is (H, 1, F),
 * and the mean over nodes of (b, H, N, F) reshapes to (b, H * F) = (b, D) with head-major columns,
 * the column order of the concatenated heads.
 */

const transposeLast = (g: GraphBuilder, x: string) => g.op("Transpose", [x], { perm: [0, 1, 3, 2] });
/** A weight (D, c') as per-head (H, c', F). */
const perHead = (g: GraphBuilder, w: string, cfg: SpatialEncoderConfig) =>
  g.op("Transpose", [g.reshape(w, [cfg.heads, cfg.headDim, inputWidth(cfg)])], { perm: [0, 2, 1] });
/** Gradient (H, c', F) back to the weight's (D, c'). */
const fromPerHead = (g: GraphBuilder, dw: string, cfg: SpatialEncoderConfig) =>
  g.reshape(g.op("Transpose", [dw], { perm: [0, 2, 1] }), [outputWidth(cfg), inputWidth(cfg)]);

function buildForward(g: GraphBuilder, cfg: SpatialEncoderConfig, P: (name: string) => string): Forward {
  const N = cfg.nodes, H = cfg.heads, F = cfg.headDim;
  let xin = "x";
  if (cfg.positions) {
    const eye = new Float32Array(N * N);
    for (let u = 0; u < N; u++) eye[u * N + u] = 1;
    const batch = g.op("Slice", [g.op("Shape", ["x"]), g.ints([0]), g.ints([1]), g.ints([0])]);
    const shape = g.op("Concat", [batch, g.ints([N, N])], { axis: 0 });
    xin = g.op("Concat", ["x", g.op("Expand", [g.constant(eye, [N, N], "eye"), shape])], { axis: 2 });
  }
  const x4 = g.op("Unsqueeze", [xin, g.ints([1])]); // (b, 1, N, c')
  const project = (w: string) => g.matmul(x4, perHead(g, P(w), cfg)); // (b, H, N, F)
  const saved: Record<string, string> = {};
  let out: string;
  if (cfg.kind === "gcn") {
    const A = g.op("Unsqueeze", [g.op("Softmax", ["mask"], { axis: -1 }), g.ints([1])]); // uniform over each node's neighbours
    const agg = g.matmul(A, x4); // (b, 1, N, c')
    saved.agg = agg;
    out = g.matmul(agg, perHead(g, P("w"), cfg));
  } else if (cfg.kind === "gat") {
    const hh = project("w");
    const aSrc = g.reshape(P("a_src"), [H, 1, F]), aDst = g.reshape(P("a_dst"), [H, 1, F]);
    const s = g.matmul(hh, g.reshape(P("a_src"), [H, F, 1])); // (b, H, N, 1)
    const t = transposeLast(g, g.matmul(hh, g.reshape(P("a_dst"), [H, F, 1]))); // (b, H, 1, N)
    const u = g.add(s, t);
    const e = g.add(g.op("LeakyRelu", [u], { alpha: { float: 0.2 } }), g.op("Unsqueeze", ["mask", g.ints([1])]));
    const alpha = g.op("Softmax", [e], { axis: -1 });
    out = g.matmul(alpha, hh);
    Object.assign(saved, { hh, aSrc, aDst, u, alpha });
  } else {
    const q = project("wq"), k = project("wk"), v = project("wv");
    const S = g.scale(g.matmul(q, transposeLast(g, k)), 1 / Math.sqrt(F));
    const A = g.op("Softmax", [S], { axis: -1 });
    out = g.matmul(A, v);
    Object.assign(saved, { q, k, v, A });
  }
  const pre = g.add(out, g.reshape(P("bias"), [H, 1, F]));
  const y = g.op("Elu", [pre], { alpha: { float: 1 } });
  const z = g.reshape(g.reduceMean(y, [2], false), [-1, outputWidth(cfg)]);
  saved.y = y;
  return { x4, pre, z, saved };
}

/** dL/d(params) from dL/dz, as ONNX ops. */
function buildBackward(g: GraphBuilder, cfg: SpatialEncoderConfig, f: Forward): Record<string, string> {
  const N = cfg.nodes, D = outputWidth(cfg), H = cfg.heads, F = cfg.headDim;
  const { saved } = f;
  // ELU'(p) = 1 for p > 0, else exp(p) = y + 1.
  const eluGrad = g.op("Where", [g.op("Greater", [f.pre, g.scalar(0)]), g.scalar(1), g.add(saved.y, g.scalar(1))]);
  const dout = g.mul(g.scale(g.reshape("dz", [-1, H, 1, F]), 1 / N), eluGrad); // (b, H, N, F)
  const grads: Record<string, string> = { bias: g.reshape(g.reduceSum(dout, [0, 2], false), [D]) };
  /** dW (D, c') of a projection x4 W -> (b, H, N, F) from its output gradient. */
  const weightGrad = (dproj: string, input = f.x4) => fromPerHead(g, g.reduceSum(g.matmul(transposeLast(g, input), dproj), [0], false), cfg);
  /** Softmax backward along the last axis: A * (dA - sum(A * dA)). */
  const softmaxBack = (A: string, dA: string) => g.mul(A, g.sub(dA, g.reduceSum(g.mul(A, dA), [3], true)));
  if (cfg.kind === "gcn") {
    grads.w = weightGrad(dout, saved.agg);
    return grads;
  }
  if (cfg.kind === "gat") {
    const { hh, aSrc, aDst, u, alpha } = saved;
    const dalpha = g.matmul(dout, transposeLast(g, hh));
    const du = g.mul(softmaxBack(alpha, dalpha), g.op("Where", [g.op("Greater", [u, g.scalar(0)]), g.scalar(1), g.scalar(0.2)]));
    const ds = g.reduceSum(du, [3], true); // (b, H, N, 1)
    const dt = transposeLast(g, g.reduceSum(du, [2], true)); // (b, H, N, 1)
    const dhh = g.sumAll([g.matmul(transposeLast(g, alpha), dout), g.mul(ds, aSrc), g.mul(dt, aDst)]);
    grads.a_src = g.reduceSum(g.mul(ds, hh), [0, 2], false);
    grads.a_dst = g.reduceSum(g.mul(dt, hh), [0, 2], false);
    grads.w = weightGrad(dhh);
    return grads;
  }
  const { q, k, v, A } = saved;
  const dA = g.matmul(dout, transposeLast(g, v));
  const dv = g.matmul(transposeLast(g, A), dout);
  const dS = g.scale(softmaxBack(A, dA), 1 / Math.sqrt(F));
  grads.wq = weightGrad(g.matmul(dS, k));
  grads.wk = weightGrad(g.matmul(transposeLast(g, dS), q));
  grads.wv = weightGrad(dv);
  return grads;
}

export interface EncoderGraphOptions {
  /** "forward": x (, mask) -> z. "train": also dz, moments and Adam scalars -> updated parameters and moments. */
  mode: "forward" | "train";
  adam?: AdamOptions;
  /** Train mode: also output the raw gradients (tests). */
  gradients?: boolean;
}

export const encoderNamesIO = {
  param: (p: string) => `p_${p}`,
  m: (p: string) => `m_${p}`,
  v: (p: string) => `v_${p}`,
  newParam: (p: string) => `p_${p}_out`,
  newM: (p: string) => `m_${p}_out`,
  newV: (p: string) => `v_${p}_out`,
  grad: (p: string) => `g_${p}`,
};

/** The encoder as an ONNX model; the batch dimension is symbolic ("b"). */
export function buildEncoderGraph(cfg: SpatialEncoderConfig, o: EncoderGraphOptions): ModelSpec {
  validateConfig(cfg);
  const g = new GraphBuilder();
  const names = encoderNamesIO;
  const fl = (name: string, shape: (number | string)[]): ValueSpec => ({ name, type: "float", shape });
  const N = cfg.nodes, D = outputWidth(cfg);
  const inputs: ValueSpec[] = [fl("x", ["b", N, cfg.channels])];
  if (usesGraph(cfg.kind)) inputs.push(fl("mask", ["b", N, N]));
  const shapes = encoderParamShapes(cfg);
  for (const [p, shape] of shapes) inputs.push(fl(names.param(p), shape));
  const fwd = buildForward(g, cfg, names.param);
  const outputs: ValueSpec[] = [];
  if (o.mode === "forward") {
    g.op("Identity", [fwd.z], undefined, "z");
    outputs.push(fl("z", ["b", D]));
    return { inputs, outputs, nodes: g.nodes, initializers: g.initializers, name: `satc_${cfg.kind}_forward` };
  }
  const adam = o.adam ?? TAC_ADAM;
  inputs.push(fl("dz", ["b", D]), fl("adam_step_size", [1]), fl("adam_inv_sqrt_bc2", [1]));
  const grads = buildBackward(g, cfg, fwd);
  for (const [p, shape] of shapes) {
    inputs.push(fl(names.m(p), shape), fl(names.v(p), shape));
    const grad = grads[p];
    if (o.gradients) {
      g.op("Identity", [grad], undefined, names.grad(p));
      outputs.push(fl(names.grad(p), shape));
    }
    // torch.optim.Adam, as the heads' step graph.
    const m = g.op("Add", [g.scale(names.m(p), adam.beta1), g.scale(grad, 1 - adam.beta1)], undefined, names.newM(p));
    const s = g.op("Add", [g.scale(names.v(p), adam.beta2), g.scale(g.mul(grad, grad), 1 - adam.beta2)], undefined, names.newV(p));
    const denom = g.add(g.mul(g.op("Sqrt", [s]), "adam_inv_sqrt_bc2"), g.scalar(adam.eps));
    g.op("Sub", [names.param(p), g.mul(g.div(m, denom), "adam_step_size")], undefined, names.newParam(p));
    outputs.push(fl(names.newParam(p), shape), fl(names.newM(p), shape), fl(names.newV(p), shape));
  }
  return { inputs, outputs, nodes: g.nodes, initializers: g.initializers, name: `satc_${cfg.kind}_train` };
}

export interface SpatialEncoderOptions {
  heads?: number;
  headDim?: number;
  positions?: boolean;
  adam?: AdamOptions;
  threads?: number;
  /** Items per forward run in "eval" mode is decided by the caller; this caps one run. Default 4096. */
  chunk?: number;
}

/**
 * A spatial encoder over stored patch nodes and their graph, usable as the spatial view's
 * ViewEncoder: forward(indices) gathers the items' nodes and masks and runs the graph; backward
 * runs the training graph on the same items and updates the parameters with Adam (own state).
 */
export class SpatialEncoder implements ViewEncoder {
  readonly outDim: number;
  /** Adam step count. */
  t = 0;
  private m: EncoderParams = {};
  private v: EncoderParams = {};
  private last: { x: Float32Array; mask: Float32Array | null; count: number } | null = null;

  private constructor(
    readonly config: SpatialEncoderConfig,
    public params: EncoderParams,
    private readonly nodes: PatchNodes,
    private readonly graph: PatchGraph | null,
    private readonly forwardSession: ort.InferenceSession,
    private readonly trainSession: ort.InferenceSession,
    private readonly adam: AdamOptions,
  ) {
    this.outDim = outputWidth(config);
    for (const [p, arr] of Object.entries(params)) {
      this.m[p] = new Float32Array(arr.length);
      this.v[p] = new Float32Array(arr.length);
    }
  }

  /**
   * nodes: (nImages, N, c); graph: the images' patch graph (ignored by the transformer).
   * Parameters are initialised from `rng`.
   */
  static async create(kind: SpatialEncoderName, nodes: PatchNodes, graph: PatchGraph | null, rng: Random, options: SpatialEncoderOptions = {}): Promise<SpatialEncoder> {
    const [n, N, c] = nodes.shape;
    const cfg: SpatialEncoderConfig = {
      kind, nodes: N, channels: c, heads: kind === "gcn" ? 1 : options.heads ?? 4,
      headDim: options.headDim ?? (kind === "gcn" ? 128 : 32), positions: options.positions ?? false,
    };
    validateConfig(cfg);
    if (usesGraph(kind)) {
      if (!graph) throw new UsageError(`spatial encoder '${kind}' needs the patch graph`);
      if (graph.nImages !== n || graph.nNodes !== N) throw new RangeError(`patch graph is (${graph.nImages}, ${graph.nNodes}), nodes are (${n}, ${N})`);
    }
    const adam = options.adam ?? TAC_ADAM;
    const params = initEncoderParams(cfg, rng);
    const forwardSession = await createSession(buildEncoderGraph(cfg, { mode: "forward" }), { threads: options.threads });
    const trainSession = await createSession(buildEncoderGraph(cfg, { mode: "train", adam }), { threads: options.threads });
    return new SpatialEncoder(cfg, params, nodes, usesGraph(kind) ? graph : null, forwardSession, trainSession, adam);
  }

  private gather(indices: Int32Array): { x: Float32Array; mask: Float32Array | null } {
    const [, N, c] = this.nodes.shape;
    const size = N * c;
    const x = new Float32Array(indices.length * size);
    for (let r = 0; r < indices.length; r++) x.set(this.nodes.data.subarray(indices[r] * size, (indices[r] + 1) * size), r * size);
    return { x, mask: this.graph ? graphMasks(this.graph, indices) : null };
  }

  private feeds(x: Float32Array, mask: Float32Array | null, count: number): Record<string, ort.Tensor> {
    const { nodes: N, channels: c } = this.config;
    const feeds: Record<string, ort.Tensor> = { x: tensor(x, [count, N, c]) };
    if (mask) feeds.mask = tensor(mask, [count, N, N]);
    for (const [p, shape] of encoderParamShapes(this.config)) feeds[encoderNamesIO.param(p)] = tensor(this.params[p], shape);
    return feeds;
  }

  async forward(indices: Int32Array, mode: "train" | "eval"): Promise<Matrix> {
    const { x, mask } = this.gather(indices);
    const count = indices.length;
    const r = await this.forwardSession.run(this.feeds(x, mask, count));
    if (mode === "train") this.last = { x, mask, count };
    return { data: r.z.data as Float32Array, rows: count, cols: this.outDim };
  }

  async backward(gradOutput: Matrix): Promise<void> {
    if (!this.last) throw new Error("SpatialEncoder.backward without a train-mode forward");
    const { x, mask, count } = this.last;
    this.last = null;
    if (gradOutput.rows !== count || gradOutput.cols !== this.outDim) {
      throw new RangeError(`SpatialEncoder.backward: gradient is (${gradOutput.rows}, ${gradOutput.cols}), expected (${count}, ${this.outDim})`);
    }
    const feeds = this.feeds(x, mask, count);
    feeds.dz = tensor(gradOutput.data, [count, this.outDim]);
    const t = this.t + 1;
    feeds.adam_step_size = tensor(Float32Array.of(this.adam.lr / (1 - this.adam.beta1 ** t)), [1]);
    feeds.adam_inv_sqrt_bc2 = tensor(Float32Array.of(1 / Math.sqrt(1 - this.adam.beta2 ** t)), [1]);
    for (const [p, shape] of encoderParamShapes(this.config)) {
      feeds[encoderNamesIO.m(p)] = tensor(this.m[p], shape);
      feeds[encoderNamesIO.v(p)] = tensor(this.v[p], shape);
    }
    const r = await this.trainSession.run(feeds);
    this.t = t;
    for (const [p] of encoderParamShapes(this.config)) {
      this.params[p] = r[encoderNamesIO.newParam(p)].data as Float32Array;
      this.m[p] = r[encoderNamesIO.newM(p)].data as Float32Array;
      this.v[p] = r[encoderNamesIO.newV(p)].data as Float32Array;
    }
  }

  /**
   * The same trained encoder over other images (for example the test split): shares the
   * parameters' current values and the sessions; for forward passes ("eval") only.
   */
  attach(nodes: PatchNodes, graph: PatchGraph | null): SpatialEncoder {
    const [n, N, c] = nodes.shape;
    if (N !== this.config.nodes || c !== this.config.channels) {
      throw new RangeError(`spatial encoder expects (n, ${this.config.nodes}, ${this.config.channels}) nodes, got (${n}, ${N}, ${c})`);
    }
    if (usesGraph(this.config.kind) && (!graph || graph.nImages !== n || graph.nNodes !== N)) throw new RangeError("attach: the patch graph does not match the nodes");
    return new SpatialEncoder(this.config, this.params, nodes, usesGraph(this.config.kind) ? graph : null, this.forwardSession, this.trainSession, this.adam);
  }

  /** Encode every image in "eval" mode, in chunks: (nImages, outDim). */
  async encodeAll(chunk = 4096): Promise<Matrix> {
    const n = this.nodes.shape[0];
    const out = new Float32Array(n * this.outDim);
    for (let start = 0; start < n; start += chunk) {
      const idx = Int32Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
      out.set((await this.forward(idx, "eval")).data, start * this.outDim);
    }
    return { data: out, rows: n, cols: this.outDim };
  }

  async release(): Promise<void> {
    await this.forwardSession.release();
    await this.trainSession.release();
  }
}
