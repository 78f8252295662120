/**
 * onnxruntime-node sessions for satc's own small graphs (distances, training steps).
 * One place decides threads and options so every stage runs the same way.
 */
import ort from "onnxruntime-node";
import { buildModel, type ModelSpec } from "./graph.js";

export { ort };

export interface SessionOptions {
  /** Intra-op threads; default: all cores (os.availableParallelism). */
  threads?: number;
}

export async function createSession(model: Uint8Array | ModelSpec, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const bytes = model instanceof Uint8Array ? model : buildModel(model);
  const { availableParallelism } = await import("node:os");
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
}

/** Wrap a Float32Array with its shape as an ONNX Runtime tensor (no copy). */
export function tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor("float32", data, dims);
}
