/**
 * The patch graph of the spatial view (DESIGN 1.3): one small graph per image whose nodes are
 * the image's patch features (ResNet-50's 49 cells, or the pixels encoder's grid) and whose edges
 * join each node to its k most cosine-similar nodes of the same image, plus a self loop.
 *
 * Computed in batches of images in onnxruntime-node: normalise the node features, one batched
 * MatMul (b, N, c) x (b, c, N) for all similarities, mask the diagonal, TopK over the last axis.
 */
import { UsageError, expected } from "../errors.js";
import type { ModelSpec } from "../onnx/graph.js";
import { createSession, tensor } from "../onnx/session.js";
import { GraphBuilder } from "../training/graph-builder.js";

/** Node features of every image: (nImages, nNodes, nChannels) row-major. */
export interface PatchNodes {
  data: Float32Array;
  shape: [number, number, number];
}

/**
 * Edges of every image's patch graph. For image i and node u, the neighbours are
 * neighbors[((i * nNodes) + u) * degree + e] for e < degree: e = 0 is u itself (the self loop),
 * e = 1..k are the k most cosine-similar other nodes of the same image, most similar first.
 * Node numbers are local to the image (0..nNodes-1).
 */
export interface PatchGraph {
  nImages: number;
  nNodes: number;
  /** k + 1 (self loop included). */
  degree: number;
  /** (nImages, nNodes, degree) */
  neighbors: Uint16Array;
}

export interface PatchGraphOptions {
  /** Neighbours per node besides the self loop. Default 8. */
  k?: number;
  /** Images per ONNX run. Default 2048. */
  batchSize?: number;
  threads?: number;
  onProgress?: (event: { stage: "patch-graph"; done: number; total: number }) => void;
}

function graphModel(nodes: number, channels: number, k: number): ModelSpec {
  const g = new GraphBuilder();
  const norm = g.op("Max", [g.op("ReduceL2", ["x"], { axes: [2], keepdims: 1 }), g.scalar(1e-12)]);
  const unit = g.div("x", norm);
  const sim = g.matmul(unit, g.op("Transpose", [unit], { perm: [0, 2, 1] }));
  const diag = new Float32Array(nodes * nodes);
  for (let u = 0; u < nodes; u++) diag[u * nodes + u] = -1e9;
  const masked = g.add(sim, g.constant(diag, [nodes, nodes], "diag"));
  g.nodes.push({ op: "TopK", inputs: [masked, g.ints([k])], outputs: ["values", "indices"], attributes: { axis: 2, largest: 1, sorted: 1 } });
  return {
    inputs: [{ name: "x", type: "float", shape: ["b", nodes, channels] }],
    outputs: [{ name: "indices", type: "int64", shape: ["b", nodes, k] }],
    nodes: g.nodes,
    initializers: g.initializers,
    name: "satc_patch_graph",
  };
}

/**
 * Build the k-nearest-neighbour patch graph of every image (cosine similarity of node features,
 * within the image). Ties are broken by ONNX Runtime's TopK (lower index first in practice).
 * All-zero nodes have similarity 0 to every node.
 */
export async function buildPatchGraph(nodes: PatchNodes, options: PatchGraphOptions = {}): Promise<PatchGraph> {
  const [n, N, c] = nodes.shape;
  const k = options.k ?? 8;
  if (!Number.isInteger(k) || k < 0) throw new UsageError(expected("an integer >= 0", "graph k", k));
  if (k > N - 1) throw new UsageError(`graph k=${k} neighbours need at least ${k + 1} nodes per image, the patches have ${N}`);
  if (N > 65535) throw new UsageError(`patch graphs support up to 65535 nodes per image, got ${N}`);
  if (nodes.data.length !== n * N * c) throw new RangeError(`patch nodes have ${nodes.data.length} values, expected ${n}*${N}*${c}`);
  const degree = k + 1;
  const neighbors = new Uint16Array(n * N * degree);
  for (let i = 0; i < n * N; i++) neighbors[i * degree] = i % N;
  if (k === 0 || n === 0) return { nImages: n, nNodes: N, degree, neighbors };
  const batch = options.batchSize ?? 2048;
  const session = await createSession(graphModel(N, c, k), { threads: options.threads });
  try {
    for (let start = 0; start < n; start += batch) {
      const end = Math.min(n, start + batch);
      const r = await session.run({ x: tensor(nodes.data.subarray(start * N * c, end * N * c), [end - start, N, c]) });
      const idx = r.indices.data as BigInt64Array;
      for (let row = 0; row < (end - start) * N; row++) {
        const o = (start * N + row) * degree;
        for (let e = 0; e < k; e++) neighbors[o + 1 + e] = Number(idx[row * k + e]);
      }
      options.onProgress?.({ stage: "patch-graph", done: end, total: n });
    }
  } finally {
    await session.release();
  }
  return { nImages: n, nNodes: N, degree, neighbors };
}

/**
 * Dense additive attention masks of some images' graphs: out[b, u, v] = 0 when v is a
 * neighbour of u (self loop included), `blocked` otherwise. out: (images.length, N, N).
 */
export function graphMasks(graph: PatchGraph, images: ArrayLike<number>, out?: Float32Array, blocked = -1e9): Float32Array {
  const { nNodes: N, degree } = graph;
  const m = out ?? new Float32Array(images.length * N * N);
  m.fill(blocked, 0, images.length * N * N);
  for (let b = 0; b < images.length; b++) {
    const base = images[b] * N * degree;
    for (let u = 0; u < N; u++) {
      const row = (b * N + u) * N;
      for (let e = 0; e < degree; e++) m[row + graph.neighbors[base + u * degree + e]] = 0;
    }
  }
  return m;
}
