/**
 * Channel reduction of the patch nodes before training (DESIGN 1.3): ResNet-50's 49 nodes of 2048
 * channels take 400 KB per image (24 GB for 60k images); projected to d_r channels they take
 * 49 * d_r * 4 bytes (12.5 KB at d_r = 64). Fitted once, applied to every node, and stored in the
 * feature store beside the features it was fitted on.
 *
 * - "pca": principal components of a random sample of nodes (node = one patch of one image),
 *   by a randomised SVD (Halko, Martinsson and Tropp 2011: Gaussian sketch, power iterations,
 *   Rayleigh-Ritz) of the centred sample; projection = the top d_r components.
 * - "projection": a fixed seeded Gaussian projection scaled by 1/sqrt(d_r) (Johnson-Lindenstrauss),
 *   no fitting and no centring; cosine similarities are kept approximately.
 *
 * When the nodes have d_r channels or fewer (the pixels grid: 16) the reduction is the identity.
 * The big products (sample x sketch, all nodes x projection) run in onnxruntime-node.
 */
import { UsageError, expected } from "../errors.js";
import type { FeatureKey, FeatureStore } from "../features/store.js";
import { createSession, tensor } from "../onnx/session.js";
import { Random } from "../util/random.js";
import type { PatchNodes } from "./graph.js";

export type ReductionMethod = "pca" | "projection";

export interface ChannelReduction {
  method: ReductionMethod | "identity";
  /** Channels in, channels out. */
  inChannels: number;
  outChannels: number;
  /** (inChannels) subtracted before projecting (zeros for "projection"). */
  mean: Float32Array;
  /** (outChannels, inChannels): reduced = (x - mean) components^T. */
  components: Float32Array;
  /** PCA: the variance of the sample along each component (outChannels), largest first. */
  variance?: Float32Array;
  /** PCA: the sample's total variance (sum over all input channels). */
  totalVariance?: number;
}

export interface ReductionOptions {
  /** Channels to keep, d_r. Default 64. */
  channels?: number;
  method?: ReductionMethod;
  /** Nodes sampled to fit the PCA. Default 20000. */
  sampleNodes?: number;
  /** Power iterations of the randomised SVD. Default 4. */
  powerIterations?: number;
  seed?: number;
  threads?: number;
}

const matmulGraph = {
  inputs: [
    { name: "a", type: "float" as const, shape: ["m", "k"] },
    { name: "b", type: "float" as const, shape: ["k", "n"] },
  ],
  outputs: [{ name: "c", type: "float" as const, shape: ["m", "n"] }],
  nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
};

/** Orthonormalise the columns of y (rows, cols) in place (modified Gram-Schmidt, twice), float64. */
function orthonormalizeColumns(y: Float64Array, rows: number, cols: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += y[r * cols + i] * y[r * cols + j];
        for (let r = 0; r < rows; r++) y[r * cols + j] -= dot * y[r * cols + i];
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += y[r * cols + j] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let r = 0; r < rows; r++) y[r * cols + j] /= norm;
    }
  }
}

/** Eigen-decomposition of a symmetric (n, n) matrix by cyclic Jacobi: values descending, vectors as rows. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = a.slice();
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const apq = A[p * n + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) {
        const akp = A[k * n + p], akq = A[k * n + q];
        A[k * n + p] = c * akp - s * akq;
        A[k * n + q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = A[p * n + k], aqk = A[q * n + k];
        A[p * n + k] = c * apk - s * aqk;
        A[q * n + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < n; k++) {
        const vpk = V[p * n + k], vqk = V[q * n + k];
        V[p * n + k] = c * vpk - s * vqk;
        V[q * n + k] = s * vpk + c * vqk;
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((i, r) => vectors.set(V.subarray(i * n, (i + 1) * n), r * n));
  return { values, vectors };
}

/** Fit the reduction of the nodes' channels (see the module comment). */
export async function fitChannelReduction(nodes: PatchNodes, options: ReductionOptions = {}): Promise<ChannelReduction> {
  const [n, N, c] = nodes.shape;
  const d = options.channels ?? 64;
  if (!Number.isInteger(d) || d < 1) throw new UsageError(expected("a positive integer", "reduced channels", d));
  const method = options.method ?? "pca";
  if (method !== "pca" && method !== "projection") throw new UsageError(expected("'pca' or 'projection'", "reduction method", method));
  if (d >= c) {
    const components = new Float32Array(c * c);
    for (let i = 0; i < c; i++) components[i * c + i] = 1;
    return { method: "identity", inChannels: c, outChannels: c, mean: new Float32Array(c), components };
  }
  const rng = new Random(options.seed ?? 0);
  if (method === "projection") {
    const scale = 1 / Math.sqrt(d);
    return {
      method, inChannels: c, outChannels: d, mean: new Float32Array(c),
      components: Float32Array.from({ length: d * c }, () => rng.normal() * scale),
    };
  }
  // Sample of nodes, centred (float32 for the ONNX products).
  const total = n * N;
  const m = Math.min(total, options.sampleNodes ?? 20000);
  const picks = m === total ? Int32Array.from({ length: total }, (_, i) => i) : rng.permutation(total).subarray(0, m);
  const sample = new Float32Array(m * c);
  for (let r = 0; r < m; r++) sample.set(nodes.data.subarray(picks[r] * c, (picks[r] + 1) * c), r * c);
  const mean64 = new Float64Array(c);
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) mean64[j] += sample[r * c + j] / m;
  let totalVariance = 0;
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) {
    const v = (sample[r * c + j] -= mean64[j]);
    totalVariance += (v * v) / Math.max(1, m - 1);
  }
  const l = Math.min(c, m, d + 10);
  const session = await createSession(matmulGraph, { threads: options.threads });
  const mul = async (a: Float32Array, ad: [number, number], b: Float32Array, bd: [number, number]) =>
    Float64Array.from((await session.run({ a: tensor(a, ad), b: tensor(b, bd) })).c.data as Float32Array);
  // sampleT (c, m) for X^T products.
  const sampleT = new Float32Array(c * m);
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) sampleT[j * m + r] = sample[r * c + j];
  try {
    let omega = Float64Array.from({ length: c * l }, () => rng.normal());
    let y = await mul(sample, [m, c], Float32Array.from(omega), [c, l]); // (m, l)
    for (let it = 0; it < (options.powerIterations ?? 4); it++) {
      orthonormalizeColumns(y, m, l);
      omega = await mul(sampleT, [c, m], Float32Array.from(y), [m, l]); // (c, l)
      orthonormalizeColumns(omega, c, l);
      y = await mul(sample, [m, c], Float32Array.from(omega), [c, l]);
    }
    orthonormalizeColumns(y, m, l);
    // Rayleigh-Ritz: Bm = Q^T X (l, c) = (X^T Q)^T; eigen of Bm Bm^T (l, l).
    const xtq = await mul(sampleT, [c, m], Float32Array.from(y), [m, l]); // (c, l)
    const gram = new Float64Array(l * l);
    for (let i = 0; i < l; i++) for (let j = i; j < l; j++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += xtq[k * l + i] * xtq[k * l + j];
      gram[i * l + j] = gram[j * l + i] = s;
    }
    const { values, vectors } = symmetricEigen(gram, l);
    // Component r = normalise(sum_i vectors[r, i] * Bm[i, :]).
    const components = new Float32Array(d * c);
    for (let r = 0; r < d; r++) {
      const comp = new Float64Array(c);
      for (let i = 0; i < l; i++) {
        const w = vectors[r * l + i];
        for (let k = 0; k < c; k++) comp[k] += w * xtq[k * l + i];
      }
      let norm = 0;
      for (const v of comp) norm += v * v;
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < c; k++) components[r * c + k] = comp[k] / norm;
    }
    return {
      method, inChannels: c, outChannels: d, mean: Float32Array.from(mean64), components,
      variance: Float32Array.from(values.subarray(0, d), (v) => v / Math.max(1, m - 1)), totalVariance,
    };
  } finally {
    await session.release();
  }
}

/** Apply a reduction to every node: (n, N, c) -> (n, N, d_r). The identity returns the input. */
export async function applyChannelReduction(nodes: PatchNodes, r: ChannelReduction, options: { threads?: number; chunkNodes?: number } = {}): Promise<PatchNodes> {
  const [n, N, c] = nodes.shape;
  if (c !== r.inChannels) throw new RangeError(`channel reduction fitted on ${r.inChannels} channels, nodes have ${c}`);
  if (r.method === "identity") return nodes;
  const d = r.outChannels;
  // (x - mean) P^T = x P^T - (P mean)^T: one GEMM and a per-channel shift.
  const pt = new Float32Array(c * d);
  const shift = new Float64Array(d);
  for (let o = 0; o < d; o++) for (let j = 0; j < c; j++) {
    pt[j * d + o] = r.components[o * c + j];
    shift[o] += r.components[o * c + j] * r.mean[j];
  }
  const out = new Float32Array(n * N * d);
  const session = await createSession(matmulGraph, { threads: options.threads });
  try {
    const total = n * N, chunk = options.chunkNodes ?? 65536;
    const b = tensor(pt, [c, d]);
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const res = (await session.run({ a: tensor(nodes.data.subarray(start * c, end * c), [end - start, c]), b })).c.data as Float32Array;
      for (let i = 0; i < (end - start) * d; i++) out[start * d + i] = res[i] - shift[i % d];
    }
  } finally {
    await session.release();
  }
  return { data: out, shape: [n, N, d] };
}

/**
 * Reduced nodes through the feature store: the fitted reduction and the reduced nodes are kept
 * as an entry keyed by the features' key and the reduction options, so a second run reuses both.
 * `baseKey` is the key of the stored features the nodes came from.
 */
export async function reducedNodes(
  store: FeatureStore | null,
  baseKey: FeatureKey | null,
  nodes: PatchNodes,
  options: ReductionOptions = {},
): Promise<{ nodes: PatchNodes; reduction: ChannelReduction; cached: boolean }> {
  const settings = { channels: options.channels ?? 64, method: options.method ?? "pca", sampleNodes: options.sampleNodes ?? 20000, powerIterations: options.powerIterations ?? 4, seed: options.seed ?? 0 };
  const key: FeatureKey | null = baseKey && { input: baseKey.input, encoder: { name: `${baseKey.encoder.name}+reduce`, options: { features: baseKey.encoder.options, reduce: settings } } };
  const [n, N, c] = nodes.shape;
  if (store && key && settings.channels < c) {
    const hit = await store.get(key);
    if (hit && hit.arrays.patches && hit.arrays.components && hit.arrays.mean) {
      const [hn, hN, hd] = hit.arrays.patches.shape;
      if (hn === n && hN === N && hit.arrays.components.shape[1] === c) {
        const reduction: ChannelReduction = {
          method: settings.method, inChannels: c, outChannels: hd, mean: hit.arrays.mean.data as Float32Array,
          components: hit.arrays.components.data as Float32Array,
        };
        return { nodes: { data: hit.arrays.patches.data as Float32Array, shape: [hn, hN, hd] }, reduction, cached: true };
      }
    }
  }
  const reduction = await fitChannelReduction(nodes, options);
  const reduced = await applyChannelReduction(nodes, reduction, { threads: options.threads });
  if (store && key && reduction.method !== "identity") {
    await store.put(key, {
      patches: { data: reduced.data, shape: [...reduced.shape] },
      components: { data: reduction.components, shape: [reduction.outChannels, reduction.inChannels] },
      mean: { data: reduction.mean, shape: [reduction.inChannels] },
    });
  }
  return { nodes: reduced, reduction, cached: false };
}
