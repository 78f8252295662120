/**
 * Build small ONNX models in memory.
 *
 * satc runs its heavy math (k-means distances, the training heads, the GAT) in onnxruntime-node
 * because it is 20-50x faster than plain JavaScript on a CPU (DESIGN section 2). The graphs are
 * tiny and written here by hand with the `onnx-proto` message classes, so no Python toolchain is
 * needed at run time.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** ONNX element types used by satc (TensorProto.DataType). */
export const DataType = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  double: 11,
} as const;
export type DataTypeName = keyof typeof DataType;

/** One dimension: a fixed size, or a named symbolic size (batch, n, ...). */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  type: DataTypeName;
  shape: Dim[];
}

export type AttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
  domain?: string;
  name?: string;
}

export interface InitializerSpec {
  name: string;
  type: DataTypeName;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** ONNX operator set; 17 is supported by every onnxruntime release satc allows. */
  opset?: number;
  name?: string;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DataType[v.type],
        shape: {
          dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return { name, type: T.FLOAT, f: value };
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ("ints" in value) return { name, type: T.INTS, ints: value.ints };
  if ("floats" in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.FLOAT, f: value.float };
}

function initializer(t: InitializerSpec): onnxProto.onnx.ITensorProto {
  return {
    name: t.name,
    dataType: DataType[t.type],
    dims: t.dims,
    rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  };
}

/** Serialise a model to the ONNX protobuf bytes that `InferenceSession.create` accepts. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: "satc",
    opsetImport: [{ domain: "", version: spec.opset ?? 17 }],
    graph: {
      name: spec.name ?? "satc",
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? "",
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (spec.initializers ?? []).map(initializer),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** Parse ONNX protobuf bytes (used to edit exported models, e.g. to expose ResNet-50's feature map). */
export function parseModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Serialise a parsed (possibly edited) model back to bytes. */
export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
