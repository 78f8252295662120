/**
 * A small helper to write ONNX graphs op by op with generated value names; used by the training
 * step and the inference graphs. Shapes are the caller's business; see graph.ts for the format.
 */
import type { InitializerSpec, NodeSpec, AttributeValue } from "../onnx/graph.js";

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  private counter = 0;

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** Add one node with a single output; returns the output's name (or `output` when given). */
  op(op: string, inputs: string[], attributes?: Record<string, AttributeValue>, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }

  /** A float32 constant (initializer) of the given shape. */
  constant(values: ArrayLike<number>, dims: number[], hint = "const"): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, type: "float", dims, data: Float32Array.from(values) });
    return name;
  }

  /** A float32 scalar constant (shape []). */
  scalar(value: number): string {
    return this.constant([value], [], "scalar");
  }

  /** An int64 constant (axes, shapes, slice bounds). */
  ints(values: number[]): string {
    const name = this.fresh("ints");
    this.initializers.push({ name, type: "int64", dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  // Shorthands for the ops used most.
  add(a: string, b: string): string { return this.op("Add", [a, b]); }
  sub(a: string, b: string): string { return this.op("Sub", [a, b]); }
  mul(a: string, b: string): string { return this.op("Mul", [a, b]); }
  div(a: string, b: string): string { return this.op("Div", [a, b]); }
  scale(a: string, s: number): string { return s === 1 ? a : this.mul(a, this.scalar(s)); }
  matmul(a: string, b: string): string { return this.op("MatMul", [a, b]); }
  transpose(a: string): string { return this.op("Transpose", [a], { perm: [1, 0] }); }
  /** Sum over `axes` (opset 13+: axes is an input). */
  reduceSum(a: string, axes: number[], keepdims: boolean): string {
    return this.op("ReduceSum", [a, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** Mean over `axes` (opset 17: axes is an attribute). */
  reduceMean(a: string, axes: number[], keepdims: boolean): string {
    return this.op("ReduceMean", [a], { axes, keepdims: keepdims ? 1 : 0 });
  }
  /** Rows [start, end) along `axis`. */
  slice(a: string, start: number, end: number, axis: number): string {
    return this.op("Slice", [a, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
  reshape(a: string, shape: number[]): string {
    return this.op("Reshape", [a, this.ints(shape)]);
  }
  sumAll(terms: string[]): string {
    return terms.length === 1 ? terms[0] : this.op("Sum", terms);
  }
}
