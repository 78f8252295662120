/**
 * Float64 reference implementation of the clustering heads, their losses and Adam, in plain
 * JavaScript. It is the readable statement of the math and the yardstick for the tests: every
 * backward here is checked against central finite differences, and the ONNX training step
 * (step-graph.ts) is checked against it. It is not used for training (too slow: plain JS GEMM).
 *
 * Conventions follow PyTorch so weights can be exchanged with TAC's code: a Linear weight is
 * (outFeatures, inFeatures) and y = x W^T + b; matrices are row-major.
 */

/** A dense row-major float64 matrix, (rows, cols). */
export interface Mat64 {
  data: Float64Array;
  rows: number;
  cols: number;
}

export function mat64(rows: number, cols: number, data?: ArrayLike<number>): Mat64 {
  const out = new Float64Array(rows * cols);
  if (data) {
    if (data.length !== rows * cols) throw new RangeError(`mat64: ${data.length} values for shape (${rows}, ${cols})`);
    out.set(data);
  }
  return { data: out, rows, cols };
}

/** Linear forward: x (n, in), w (out, in), b (out) -> (n, out). */
export function linearForward(x: Mat64, w: Mat64, b: Float64Array): Mat64 {
  const n = x.rows, inDim = x.cols, outDim = w.rows;
  const y = mat64(n, outDim);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let k = 0; k < inDim; k++) s += x.data[i * inDim + k] * w.data[o * inDim + k];
      y.data[i * outDim + o] = s;
    }
  }
  return y;
}

/** Linear backward: gradients w.r.t. x (n, in), w (out, in) and b (out) from dy (n, out). */
export function linearBackward(x: Mat64, w: Mat64, dy: Mat64): { dx: Mat64; dw: Mat64; db: Float64Array } {
  const n = x.rows, inDim = x.cols, outDim = w.rows;
  const dx = mat64(n, inDim), dw = mat64(outDim, inDim), db = new Float64Array(outDim);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      const g = dy.data[i * outDim + o];
      db[o] += g;
      for (let k = 0; k < inDim; k++) {
        dx.data[i * inDim + k] += g * w.data[o * inDim + k];
        dw.data[o * inDim + k] += g * x.data[i * inDim + k];
      }
    }
  }
  return { dx, dw, db };
}

export interface BatchNormCache {
  xhat: Mat64;
  invStd: Float64Array;
  /** Batch mean (features). */
  mean: Float64Array;
  /** Batch variance with the biased (1/n) estimator, used for normalisation. */
  varBiased: Float64Array;
}

/**
 * BatchNorm1d in training mode on x (n, features): normalise with the batch mean and biased
 * variance (as PyTorch), then scale by gamma and shift by beta.
 */
export function batchNormForward(x: Mat64, gamma: Float64Array, beta: Float64Array, eps = 1e-5): { y: Mat64; cache: BatchNormCache } {
  const n = x.rows, f = x.cols;
  const mean = new Float64Array(f), varBiased = new Float64Array(f), invStd = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += x.data[i * f + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) varBiased[j] += (x.data[i * f + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < f; j++) invStd[j] = 1 / Math.sqrt(varBiased[j] + eps);
  const xhat = mat64(n, f), y = mat64(n, f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      const h = (x.data[i * f + j] - mean[j]) * invStd[j];
      xhat.data[i * f + j] = h;
      y.data[i * f + j] = gamma[j] * h + beta[j];
    }
  }
  return { y, cache: { xhat, invStd, mean, varBiased } };
}

/** BatchNorm1d (training mode) backward: dx (n, features), dgamma, dbeta. */
export function batchNormBackward(dy: Mat64, gamma: Float64Array, cache: BatchNormCache): { dx: Mat64; dgamma: Float64Array; dbeta: Float64Array } {
  const n = dy.rows, f = dy.cols;
  const { xhat, invStd } = cache;
  const dgamma = new Float64Array(f), dbeta = new Float64Array(f);
  const meanD = new Float64Array(f), meanDX = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      const g = dy.data[i * f + j], h = xhat.data[i * f + j];
      dgamma[j] += g * h;
      dbeta[j] += g;
      meanD[j] += (g * gamma[j]) / n;
      meanDX[j] += (g * gamma[j] * h) / n;
    }
  }
  const dx = mat64(n, f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      const dxhat = dy.data[i * f + j] * gamma[j];
      dx.data[i * f + j] = invStd[j] * (dxhat - meanD[j] - xhat.data[i * f + j] * meanDX[j]);
    }
  }
  return { dx, dgamma, dbeta };
}

/** BatchNorm1d in inference mode: normalise with the running statistics. */
export function batchNormInference(x: Mat64, gamma: Float64Array, beta: Float64Array, runningMean: Float64Array, runningVar: Float64Array, eps = 1e-5): Mat64 {
  const n = x.rows, f = x.cols;
  const y = mat64(n, f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      y.data[i * f + j] = gamma[j] * (x.data[i * f + j] - runningMean[j]) / Math.sqrt(runningVar[j] + eps) + beta[j];
    }
  }
  return y;
}

/**
 * PyTorch's running-statistics update after one training batch of size n: momentum 0.1, the
 * running variance takes the unbiased (1/(n-1)) batch variance. Updates in place.
 */
export function updateRunningStats(runningMean: Float64Array | Float32Array, runningVar: Float64Array | Float32Array, batchMean: ArrayLike<number>, batchVarBiased: ArrayLike<number>, n: number, momentum = 0.1): void {
  const unbias = n / (n - 1);
  for (let j = 0; j < runningMean.length; j++) {
    runningMean[j] = (1 - momentum) * runningMean[j] + momentum * batchMean[j];
    runningVar[j] = (1 - momentum) * runningVar[j] + momentum * batchVarBiased[j] * unbias;
  }
}

export function reluForward(x: Mat64): Mat64 {
  const y = mat64(x.rows, x.cols);
  for (let i = 0; i < x.data.length; i++) y.data[i] = x.data[i] > 0 ? x.data[i] : 0;
  return y;
}

/** ReLU backward from its output y (as PyTorch: gradient passes where y > 0). */
export function reluBackward(y: Mat64, dy: Mat64): Mat64 {
  const dx = mat64(y.rows, y.cols);
  for (let i = 0; i < y.data.length; i++) dx.data[i] = y.data[i] > 0 ? dy.data[i] : 0;
  return dx;
}

/** Row-wise softmax of z (n, K). */
export function softmaxForward(z: Mat64): Mat64 {
  const { rows, cols } = z;
  const p = mat64(rows, cols);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < cols; k++) max = Math.max(max, z.data[i * cols + k]);
    let s = 0;
    for (let k = 0; k < cols; k++) s += (p.data[i * cols + k] = Math.exp(z.data[i * cols + k] - max));
    for (let k = 0; k < cols; k++) p.data[i * cols + k] /= s;
  }
  return p;
}

/** Softmax backward from its output p: dz = p * (dp - sum_k p_k dp_k), row by row. */
export function softmaxBackward(p: Mat64, dp: Mat64): Mat64 {
  const { rows, cols } = p;
  const dz = mat64(rows, cols);
  for (let i = 0; i < rows; i++) {
    let dot = 0;
    for (let k = 0; k < cols; k++) dot += p.data[i * cols + k] * dp.data[i * cols + k];
    for (let k = 0; k < cols; k++) dz.data[i * cols + k] = p.data[i * cols + k] * (dp.data[i * cols + k] - dot);
  }
  return dz;
}

export interface LossWithGrads {
  loss: number;
  dP: Mat64;
  dQ: Mat64;
}

/**
 * TAC's cluster-level contrastive loss between two assignment matrices P, Q (n, K).
 * The 2K columns (clusters) are L2-normalised; column k of P and column k of Q are a positive
 * pair, every other column of both matrices is a negative; cross-entropy over the similarities
 * divided by the temperature, averaged over the 2K columns.
 */
export function distillLoss(P: Mat64, Q: Mat64, temperature: number): LossWithGrads {
  const n = P.rows, K = P.cols, N = 2 * K;
  // c: (2K, n) = [P^T; Q^T], normalised rows.
  const c = new Float64Array(N * n), norm = new Float64Array(N);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) {
      c[k * n + i] = P.data[i * K + k];
      c[(K + k) * n + i] = Q.data[i * K + k];
    }
  }
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += c[r * n + i] ** 2;
    norm[r] = Math.max(Math.sqrt(s), 1e-12);
    for (let i = 0; i < n; i++) c[r * n + i] /= norm[r];
  }
  const S = new Float64Array(N * N);
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < N; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += c[a * n + i] * c[b * n + i];
      S[a * N + b] = s / temperature;
    }
  }
  // G = dL/dS: (softmax over j != a) - onehot(positive), divided by N.
  const G = new Float64Array(N * N);
  let loss = 0;
  for (let a = 0; a < N; a++) {
    const pos = (a + K) % N;
    let max = -Infinity;
    for (let b = 0; b < N; b++) if (b !== a) max = Math.max(max, S[a * N + b]);
    let z = 0;
    for (let b = 0; b < N; b++) if (b !== a) z += Math.exp(S[a * N + b] - max);
    loss += (max + Math.log(z) - S[a * N + pos]) / N;
    for (let b = 0; b < N; b++) {
      if (b === a) continue;
      G[a * N + b] = (Math.exp(S[a * N + b] - max) / z - (b === pos ? 1 : 0)) / N;
    }
  }
  // dc_hat = (G + G^T) c_hat / T; then back through the row normalisation.
  const dP = mat64(n, K), dQ = mat64(n, K);
  for (let a = 0; a < N; a++) {
    const dchat = new Float64Array(n);
    for (let b = 0; b < N; b++) {
      const g = (G[a * N + b] + G[b * N + a]) / temperature;
      if (g === 0) continue;
      for (let i = 0; i < n; i++) dchat[i] += g * c[b * n + i];
    }
    let dot = 0;
    for (let i = 0; i < n; i++) dot += dchat[i] * c[a * n + i];
    for (let i = 0; i < n; i++) {
      const d = (dchat[i] - c[a * n + i] * dot) / norm[a];
      if (a < K) dP.data[i * K + a] = d;
      else dQ.data[i * K + (a - K)] = d;
    }
  }
  return { loss, dP, dQ };
}

/**
 * TAC's consistency loss: mean over samples of -log(P_i . Q_i) (binary cross-entropy of the
 * agreement against 1, with PyTorch's clamp of the log at -100 and its backward formula
 * (s - 1) / max((1 - s) s, 1e-12)).
 */
export function consistLoss(P: Mat64, Q: Mat64): LossWithGrads {
  const n = P.rows, K = P.cols;
  const dP = mat64(n, K), dQ = mat64(n, K);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += P.data[i * K + k] * Q.data[i * K + k];
    loss += -Math.max(Math.log(s), -100) / n;
    const ds = (s - 1) / Math.max((1 - s) * s, 1e-12) / n;
    for (let k = 0; k < K; k++) {
      dP.data[i * K + k] = ds * Q.data[i * K + k];
      dQ.data[i * K + k] = ds * P.data[i * K + k];
    }
  }
  return { loss, dP, dQ };
}

/**
 * Entropy of the batch-mean assignment of P (n, K): H = -sum_k m_k log m_k with m = mean over
 * rows, clamped below at 1e-9 as TAC does. Returns H and dH/dP (the loss uses -lambda2 * H).
 */
export function batchEntropy(P: Mat64): { value: number; dP: Mat64 } {
  const n = P.rows, K = P.cols;
  const m = new Float64Array(K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) m[k] += P.data[i * K + k] / n;
  let value = 0;
  const dm = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const mc = Math.max(m[k], 1e-9);
    value -= mc * Math.log(mc);
    dm[k] = m[k] >= 1e-9 ? -(Math.log(mc) + 1) : 0;
  }
  const dP = mat64(n, K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) dP.data[i * K + k] = dm[k] / n;
  return { value, dP };
}

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** TAC's optimiser settings: torch.optim.Adam(betas=(0.9, 0.99)) with its default lr and eps, no weight decay. */
export const TAC_ADAM: AdamOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8 };

/** One Adam step exactly as torch.optim.Adam (1.13, non-amsgrad, no weight decay); t counts from 1. In place. */
export function adamUpdate(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, o: AdamOptions = TAC_ADAM): void {
  const bc1 = 1 - o.beta1 ** t, bc2 = 1 - o.beta2 ** t;
  const stepSize = o.lr / bc1, sqrtBc2 = Math.sqrt(bc2);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    param[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + o.eps);
  }
}

// ---------------------------------------------------------------------------------------------
// The whole head and the whole step, for the step tests.

/** One head's parameters in float64: Linear(in, hidden) -> BatchNorm1d -> ReLU -> Linear(hidden, K). */
export interface Head64 {
  w1: Mat64; // (hidden, in)
  b1: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  w2: Mat64; // (K, hidden)
  b2: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

export const HEAD_PARAMS = ["w1", "b1", "gamma", "beta", "w2", "b2"] as const;
export type HeadParamName = (typeof HEAD_PARAMS)[number];

export function headParam(h: Head64, name: HeadParamName): Float64Array {
  const p = h[name];
  return p instanceof Float64Array ? p : p.data;
}

interface HeadTrace {
  x: Mat64;
  z1: Mat64;
  bn: BatchNormCache;
  r: Mat64;
  p: Mat64;
}

export function headForward(h: Head64, x: Mat64, eps = 1e-5): HeadTrace {
  const z1 = linearForward(x, h.w1, h.b1);
  const bn = batchNormForward(z1, h.gamma, h.beta, eps);
  const r = reluForward(bn.y);
  const p = softmaxForward(linearForward(r, h.w2, h.b2));
  return { x, z1, bn: bn.cache, r, p };
}

/** Inference-mode forward (running statistics): probabilities (n, K). */
export function headPredict(h: Head64, x: Mat64, eps = 1e-5): Mat64 {
  const z1 = linearForward(x, h.w1, h.b1);
  const y = batchNormInference(z1, h.gamma, h.beta, h.runningMean, h.runningVar, eps);
  return softmaxForward(linearForward(reluForward(y), h.w2, h.b2));
}

function headBackward(h: Head64, t: HeadTrace, dp: Mat64): { grads: Record<HeadParamName, Float64Array>; dx: Mat64 } {
  const dz2 = softmaxBackward(t.p, dp);
  const l2 = linearBackward(t.r, h.w2, dz2);
  const dy = reluBackward(t.r, l2.dx);
  const bn = batchNormBackward(dy, h.gamma, t.bn);
  const l1 = linearBackward(t.x, h.w1, bn.dx);
  return { grads: { w1: l1.dw.data, b1: l1.db, gamma: bn.dgamma, beta: bn.dbeta, w2: l2.dw.data, b2: l2.db }, dx: l1.dx };
}

export interface LossSettings {
  temperature: number;
  /** Weight of Consist (lambda1). */
  consistWeight: number;
  /** Weight of the entropy term (lambda2; the loss subtracts lambda2 * H). */
  entropyWeight: number;
  /**
   * View pairs (indices into the views). (a, b) with a != b adds Distill(p_a(anchor), p_b(neighbour))
   * + Distill(p_b(anchor), p_a(neighbour)) + lambda1 Consist(p_a(anchor), p_b(anchor)).
   * (a, a) is the single-view form: Distill(p_a(anchor), p_a(neighbour)) + lambda1 Consist(p_a(anchor), p_a(neighbour)).
   */
  pairs: ReadonlyArray<readonly [number, number]>;
}

export interface LossParts {
  loss: number;
  distill: number;
  consist: number;
  entropy: number;
}

/**
 * The training loss for one batch, given the probabilities of every view on anchors and on
 * neighbours (each (n, K)); returns the parts and dL/dP for each.
 */
export function trainingLoss(anchor: Mat64[], neighbor: Mat64[], s: LossSettings): LossParts & { dAnchor: Mat64[]; dNeighbor: Mat64[] } {
  const dAnchor = anchor.map((p) => mat64(p.rows, p.cols));
  const dNeighbor = neighbor.map((p) => mat64(p.rows, p.cols));
  const acc = (into: Mat64, g: Mat64, w: number) => {
    for (let i = 0; i < g.data.length; i++) into.data[i] += w * g.data[i];
  };
  let distill = 0, consist = 0, entropy = 0;
  for (const [a, b] of s.pairs) {
    if (a === b) {
      const d = distillLoss(anchor[a], neighbor[a], s.temperature);
      distill += d.loss;
      acc(dAnchor[a], d.dP, 1);
      acc(dNeighbor[a], d.dQ, 1);
      const c = consistLoss(anchor[a], neighbor[a]);
      consist += c.loss;
      acc(dAnchor[a], c.dP, s.consistWeight);
      acc(dNeighbor[a], c.dQ, s.consistWeight);
    } else {
      const d1 = distillLoss(anchor[a], neighbor[b], s.temperature);
      const d2 = distillLoss(anchor[b], neighbor[a], s.temperature);
      distill += d1.loss + d2.loss;
      acc(dAnchor[a], d1.dP, 1);
      acc(dNeighbor[b], d1.dQ, 1);
      acc(dAnchor[b], d2.dP, 1);
      acc(dNeighbor[a], d2.dQ, 1);
      const c = consistLoss(anchor[a], anchor[b]);
      consist += c.loss;
      acc(dAnchor[a], c.dP, s.consistWeight);
      acc(dAnchor[b], c.dQ, s.consistWeight);
    }
  }
  anchor.forEach((p, v) => {
    const h = batchEntropy(p);
    entropy += h.value;
    acc(dAnchor[v], h.dP, -s.entropyWeight);
  });
  return { loss: distill + s.consistWeight * consist - s.entropyWeight * entropy, distill, consist, entropy, dAnchor, dNeighbor };
}

export interface ReferenceStepResult extends LossParts {
  /** Gradients per view, per parameter (before the update). */
  grads: Array<Record<HeadParamName, Float64Array>>;
  /** dL/dx per view for anchors and neighbours: (n, inDim) each. */
  dAnchorInput: Mat64[];
  dNeighborInput: Mat64[];
}

/**
 * One training step in float64: anchors and neighbours pass through each head as two separate
 * batches (as TAC's two model calls), loss, backward, running statistics (anchors then
 * neighbours), Adam. Updates heads and the Adam moments in place.
 */
export function referenceStep(
  heads: Head64[],
  anchors: Mat64[],
  neighbors: Mat64[],
  s: LossSettings,
  adam: { m: Array<Record<HeadParamName, Float64Array>>; v: Array<Record<HeadParamName, Float64Array>>; t: number; options?: AdamOptions },
): ReferenceStepResult {
  const ta = heads.map((h, v) => headForward(h, anchors[v]));
  const tn = heads.map((h, v) => headForward(h, neighbors[v]));
  const l = trainingLoss(ta.map((t) => t.p), tn.map((t) => t.p), s);
  const grads: Array<Record<HeadParamName, Float64Array>> = [];
  const dAnchorInput: Mat64[] = [], dNeighborInput: Mat64[] = [];
  heads.forEach((h, v) => {
    const ga = headBackward(h, ta[v], l.dAnchor[v]);
    const gn = headBackward(h, tn[v], l.dNeighbor[v]);
    const g = {} as Record<HeadParamName, Float64Array>;
    for (const name of HEAD_PARAMS) g[name] = ga.grads[name].map((x, i) => x + gn.grads[name][i]);
    grads.push(g);
    dAnchorInput.push(ga.dx);
    dNeighborInput.push(gn.dx);
  });
  adam.t += 1;
  heads.forEach((h, v) => {
    for (const tr of [ta[v], tn[v]]) updateRunningStats(h.runningMean, h.runningVar, tr.bn.mean, tr.bn.varBiased, tr.x.rows);
    for (const name of HEAD_PARAMS) adamUpdate(headParam(h, name), grads[v][name], adam.m[v][name], adam.v[v][name], adam.t, adam.options);
  });
  return { loss: l.loss, distill: l.distill, consist: l.consist, entropy: l.entropy, grads, dAnchorInput, dNeighborInput };
}
