/**
 * Exact top-k cosine neighbours of every row, as TAC's mine_nearest_neighbors (faiss
 * IndexFlatIP on L2-normalised rows, self excluded), computed block by block in onnxruntime-node:
 * for a block of query rows, one GEMM against all rows and an ONNX TopK. Memory beyond the
 * inputs is bounded by the block: blockSize x nSamples similarities.
 */
import { UsageError, expected } from "../errors.js";
import type { ModelSpec } from "../onnx/graph.js";
import { createSession, ort, tensor } from "../onnx/session.js";
import { normalizeRows, type Matrix } from "../util/matrix.js";

export interface NeighborOptions {
  /** Query rows per GEMM; the similarity block is blockSize x nSamples floats. Default 1024. */
  blockSize?: number;
  threads?: number;
  /** Called after each block. */
  onProgress?: (event: { stage: "neighbors"; done: number; total: number }) => void;
}

function topKGraph(dim: number, k: number): ModelSpec {
  return {
    inputs: [
      { name: "queries", type: "float", shape: ["b", dim] },
      { name: "items", type: "float", shape: ["n", dim] },
      { name: "k", type: "int64", shape: [1] },
    ],
    outputs: [{ name: "indices", type: "int64", shape: ["b", k] }],
    nodes: [
      { op: "Gemm", inputs: ["queries", "items"], outputs: ["sim"], attributes: { transB: 1 } },
      { op: "TopK", inputs: ["sim", "k"], outputs: ["values", "indices"], attributes: { axis: 1, largest: 1, sorted: 1 } },
    ],
  };
}

/**
 * Top-k cosine neighbours of every row of x (nSamples, nFeatures), excluding the row itself,
 * most similar first. Returns (nSamples, k) row-major indices. Rows are L2-normalised on a copy;
 * x is not modified.
 */
export async function mineNeighbors(x: Matrix, k = 50, options: NeighborOptions = {}): Promise<Int32Array> {
  const n = x.rows;
  if (!Number.isInteger(k) || k < 1) throw new UsageError(expected("a positive integer", "k", k));
  if (k > n - 1) throw new UsageError(`k=${k} neighbours need at least ${k + 1} samples, got n_samples=${n}`);
  const blockSize = options.blockSize ?? 1024;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new UsageError(expected("a positive integer", "blockSize", blockSize));
  const unit = normalizeRows({ data: x.data.slice(), rows: n, cols: x.cols });
  const session = await createSession(topKGraph(x.cols, k + 1), { threads: options.threads });
  const out = new Int32Array(n * k);
  try {
    const items = tensor(unit.data, [n, x.cols]);
    const kk = new ort.Tensor("int64", BigInt64Array.of(BigInt(k + 1)), [1]);
    for (let start = 0; start < n; start += blockSize) {
      const end = Math.min(n, start + blockSize);
      const queries = tensor(unit.data.subarray(start * x.cols, end * x.cols), [end - start, x.cols]);
      const r = await session.run({ queries, items, k: kk });
      const idx = r.indices.data as BigInt64Array;
      for (let q = 0; q < end - start; q++) {
        const self = start + q;
        let w = (start + q) * k;
        const stop = w + k;
        for (let j = 0; j <= k && w < stop; j++) {
          const c = Number(idx[q * (k + 1) + j]);
          if (c !== self) out[w++] = c;
        }
      }
      options.onProgress?.({ stage: "neighbors", done: end, total: n });
    }
  } finally {
    await session.release();
  }
  return out;
}
