/**
 * Float64 reference of the spatial encoders (encoders.ts), one image at a time in plain loops:
 * the readable statement of the math and the yardstick of the tests. Its backward is checked
 * against central finite differences; the ONNX graphs are checked against it. Not for training.
 *
 * Conventions as encoders.ts: W (D, c') with projections x W^T; heads split the D = H*F
 * columns into H consecutive blocks of F; mask (N, N) additive (0 on edges, -1e9 elsewhere).
 */
import { encoderParamShapes, inputWidth, outputWidth, type SpatialEncoderConfig } from "./encoders.js";

export type Params64 = Record<string, Float64Array>;

/** x (b, N, c), masks (b, N, N) or null -> z (b, D). */
export function encoderForward64(cfg: SpatialEncoderConfig, p: Params64, x: ArrayLike<number>, masks: ArrayLike<number> | null, b: number): Float64Array {
  return run(cfg, p, x, masks, b, null).z;
}

/** Gradients of sum(z * dz) w.r.t. every parameter. */
export function encoderBackward64(cfg: SpatialEncoderConfig, p: Params64, x: ArrayLike<number>, masks: ArrayLike<number> | null, b: number, dz: ArrayLike<number>): Params64 {
  return run(cfg, p, x, masks, b, dz).grads!;
}

const elu = (v: number) => (v > 0 ? v : Math.expm1(v));
const eluGrad = (v: number) => (v > 0 ? 1 : Math.exp(v));

/** Row-wise softmax of s (rows, cols) in place. */
function softmaxRows(s: Float64Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, s[i * cols + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += (s[i * cols + j] = Math.exp(s[i * cols + j] - mx));
    for (let j = 0; j < cols; j++) s[i * cols + j] /= sum;
  }
}

/** y (N, D) = x (N, c) W^T with W (D, c). */
function project(x: Float64Array, w: Float64Array, N: number, c: number, D: number): Float64Array {
  const y = new Float64Array(N * D);
  for (let u = 0; u < N; u++) for (let d = 0; d < D; d++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x[u * c + j] * w[d * c + j];
    y[u * D + d] = s;
  }
  return y;
}

/** dW (D, c) += dy (N, D)^T x (N, c) */
function accumulateWeightGrad(dw: Float64Array, dy: Float64Array, x: Float64Array, N: number, c: number, D: number): void {
  for (let u = 0; u < N; u++) for (let d = 0; d < D; d++) {
    const g = dy[u * D + d];
    if (g !== 0) for (let j = 0; j < c; j++) dw[d * c + j] += g * x[u * c + j];
  }
}

function run(cfg: SpatialEncoderConfig, p: Params64, x: ArrayLike<number>, masks: ArrayLike<number> | null, b: number, dz: ArrayLike<number> | null): { z: Float64Array; grads?: Params64 } {
  const N = cfg.nodes, c0 = cfg.channels, c = inputWidth(cfg), D = outputWidth(cfg), H = cfg.heads, F = cfg.headDim;
  const z = new Float64Array(b * D);
  const grads: Params64 | undefined = dz ? Object.fromEntries(encoderParamShapes(cfg).map(([n, s]) => [n, new Float64Array(s.reduce((a, v) => a * v, 1))])) : undefined;
  for (let img = 0; img < b; img++) {
    // Node inputs with the optional position one-hot.
    const xi = new Float64Array(N * c);
    for (let u = 0; u < N; u++) {
      for (let j = 0; j < c0; j++) xi[u * c + j] = x[(img * N + u) * c0 + j];
      if (cfg.positions) xi[u * c + c0 + u] = 1;
    }
    const mask = (u: number, v: number) => (masks ? masks[(img * N + u) * N + v] : 0);
    const pre = new Float64Array(N * D);
    // Per kind: forward to `pre`, and a closure for the backward given dpre.
    let back: (dpre: Float64Array) => void;
    if (cfg.kind === "gcn") {
      const A = new Float64Array(N * N);
      for (let u = 0; u < N; u++) for (let v = 0; v < N; v++) A[u * N + v] = mask(u, v);
      softmaxRows(A, N, N);
      const agg = new Float64Array(N * c);
      for (let u = 0; u < N; u++) for (let v = 0; v < N; v++) for (let j = 0; j < c; j++) agg[u * c + j] += A[u * N + v] * xi[v * c + j];
      const y = project(agg, p.w, N, c, D);
      for (let u = 0; u < N; u++) for (let d = 0; d < D; d++) pre[u * D + d] = y[u * D + d] + p.bias[d];
      back = (dpre) => accumulateWeightGrad(grads!.w, dpre, agg, N, c, D);
    } else {
      // Attention per head: scores (N, N), then out_u = sum_v att_uv val_v.
      const isGat = cfg.kind === "gat";
      const hq = project(xi, isGat ? p.w : p.wq, N, c, D);
      const hk = isGat ? hq : project(xi, p.wk, N, c, D);
      const hv = isGat ? hq : project(xi, p.wv, N, c, D);
      const att: Float64Array[] = [], raw: Float64Array[] = [];
      for (let h = 0; h < H; h++) {
        const s = new Float64Array(N * N), r = new Float64Array(N * N);
        for (let u = 0; u < N; u++) for (let v = 0; v < N; v++) {
          if (isGat) {
            let e = 0;
            for (let f = 0; f < F; f++) e += p.a_src[h * F + f] * hq[u * D + h * F + f] + p.a_dst[h * F + f] * hq[v * D + h * F + f];
            r[u * N + v] = e;
            s[u * N + v] = (e > 0 ? e : 0.2 * e) + mask(u, v);
          } else {
            let e = 0;
            for (let f = 0; f < F; f++) e += hq[u * D + h * F + f] * hk[v * D + h * F + f];
            s[u * N + v] = e / Math.sqrt(F);
          }
        }
        softmaxRows(s, N, N);
        att.push(s);
        raw.push(r);
        for (let u = 0; u < N; u++) for (let f = 0; f < F; f++) {
          let o = 0;
          for (let v = 0; v < N; v++) o += s[u * N + v] * hv[v * D + h * F + f];
          pre[u * D + h * F + f] = o + p.bias[h * F + f];
        }
      }
      back = (dpre) => {
        const dq = new Float64Array(N * D), dk = new Float64Array(N * D), dv = new Float64Array(N * D);
        for (let h = 0; h < H; h++) {
          const A = att[h];
          // dA_uv = dout_u . val_v ; dval_v += A_uv dout_u
          const dA = new Float64Array(N * N);
          for (let u = 0; u < N; u++) for (let v = 0; v < N; v++) {
            let s = 0;
            for (let f = 0; f < F; f++) {
              s += dpre[u * D + h * F + f] * hv[v * D + h * F + f];
              dv[v * D + h * F + f] += A[u * N + v] * dpre[u * D + h * F + f];
            }
            dA[u * N + v] = s;
          }
          // softmax backward, then the score's own derivative
          for (let u = 0; u < N; u++) {
            let dot = 0;
            for (let v = 0; v < N; v++) dot += A[u * N + v] * dA[u * N + v];
            for (let v = 0; v < N; v++) {
              let ds = A[u * N + v] * (dA[u * N + v] - dot);
              if (isGat) {
                ds *= raw[h][u * N + v] > 0 ? 1 : 0.2;
                for (let f = 0; f < F; f++) {
                  grads!.a_src[h * F + f] += ds * hq[u * D + h * F + f];
                  grads!.a_dst[h * F + f] += ds * hq[v * D + h * F + f];
                  dq[u * D + h * F + f] += ds * p.a_src[h * F + f];
                  dq[v * D + h * F + f] += ds * p.a_dst[h * F + f];
                }
              } else {
                ds /= Math.sqrt(F);
                for (let f = 0; f < F; f++) {
                  dq[u * D + h * F + f] += ds * hk[v * D + h * F + f];
                  dk[v * D + h * F + f] += ds * hq[u * D + h * F + f];
                }
              }
            }
          }
        }
        if (isGat) {
          for (let i = 0; i < N * D; i++) dq[i] += dv[i];
          accumulateWeightGrad(grads!.w, dq, xi, N, c, D);
        } else {
          accumulateWeightGrad(grads!.wq, dq, xi, N, c, D);
          accumulateWeightGrad(grads!.wk, dk, xi, N, c, D);
          accumulateWeightGrad(grads!.wv, dv, xi, N, c, D);
        }
      };
    }
    for (let u = 0; u < N; u++) for (let d = 0; d < D; d++) z[img * D + d] += elu(pre[u * D + d]) / N;
    if (dz && grads) {
      const dpre = new Float64Array(N * D);
      for (let u = 0; u < N; u++) for (let d = 0; d < D; d++) {
        dpre[u * D + d] = (dz[img * D + d] / N) * eluGrad(pre[u * D + d]);
        grads.bias[d] += dpre[u * D + d];
      }
      back(dpre);
    }
  }
  return { z, grads };
}
