/**
 * ResNet-50 patch features for the spatial view (DESIGN 1.3).
 *
 * Xenova/resnet-50's onnx/model.onnx is an image classifier: pixel_values -> ... -> last stage
 * (B, 2048, 7, 7) -> GlobalAveragePool -> Flatten -> Gemm -> logits. `exposeFeatureMap` edits the
 * protobuf: it finds the final global pooling (GlobalAveragePool, or ReduceMean over axes 2 and 3),
 * makes the tensor feeding it the graph's only output, and drops the nodes and weights that only
 * served the pooling and the classifier. The edited model is cached next to the download, keyed by
 * the SHA-256 of the source file, so the edit happens once per model file.
 *
 * encodeImages returns (B, cells, channels) = (B, 49, 2048) at 224 px: cell index = row * w + col
 * of the h x w grid (7 x 7 at 224; the grid the input size gives otherwise).
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type onnxProto from "onnx-proto";
import type { RawImage } from "../input/dataset.js";
import type { ModelRecord } from "../run/record.js";
import { SatcError } from "../errors.js";
import { encodeModel, parseModel } from "../onnx/graph.js";
import { ort } from "../onnx/session.js";
import { MODELS, checkDtype, filesFor, onnxFile, type ModelDtype } from "../models/registry.js";
import { defaultCacheDir, fileSha256, modelRecord, resolveModelFiles, type ResolveOptions, type ResolvedModel } from "../models/resolve.js";
import { checkDevice, cudaError, type Device } from "./clip.js";
import { preprocessBatch, resnetPreprocess, type PreprocessSpec } from "./preprocess.js";

type Model = onnxProto.onnx.ModelProto;
type Node = onnxProto.onnx.INodeProto;

export interface FeatureMapEdit {
  bytes: Uint8Array;
  /** Name of the exposed tensor (the pooling's input). */
  tensor: string;
  /** Op type of the pooling found. */
  pooling: string;
  /** Nodes kept / in the source graph. */
  nodes: { kept: number; total: number };
}

function intsOf(values: (number | Long)[] | null | undefined): number[] {
  return (values ?? []).map((v) => Number(v));
}
type Long = { toNumber(): number };

function reduceMeanAxes(node: Node, model: Model): number[] | null {
  const attr = node.attribute?.find((a) => a.name === "axes");
  if (attr) return intsOf(attr.ints as (number | Long)[]);
  const axesInput = node.input?.[1];
  if (!axesInput) return null;
  const init = model.graph?.initializer?.find((t) => t.name === axesInput);
  if (!init) return null;
  if (init.int64Data && init.int64Data.length > 0) return intsOf(init.int64Data as (number | Long)[]);
  if (init.rawData && init.rawData.length % 8 === 0) {
    const raw = init.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  return null;
}

function isGlobalPooling(node: Node, model: Model): boolean {
  if (node.opType === "GlobalAveragePool") return true;
  if (node.opType !== "ReduceMean") return false;
  const axes = reduceMeanAxes(node, model);
  if (axes === null) return false;
  const norm = axes.map((a) => (a < 0 ? a + 4 : a)).sort();
  return norm.length === 2 && norm[0] === 2 && norm[1] === 3;
}

/**
 * Make the input of the last global pooling the graph's output and prune what no longer feeds it.
 * Throws when the graph has no global pooling over the spatial axes.
 */
export function exposeFeatureMap(source: Uint8Array, nameForErrors = "model.onnx"): FeatureMapEdit {
  const model = parseModel(source);
  const graph = model.graph;
  if (!graph) throw new SatcError(`${nameForErrors} has no graph`, { file: nameForErrors });
  const nodes = graph.node ?? [];
  let pool: Node | undefined;
  for (const n of nodes) if (isGlobalPooling(n, model)) pool = n;
  if (!pool || !pool.input?.[0]) {
    throw new SatcError(
      `${nameForErrors}: found no global average pooling (GlobalAveragePool, or ReduceMean over axes 2,3) to take the feature map from; ` +
        `ops present: ${[...new Set(nodes.map((n) => n.opType))].join(", ")}`,
      { file: nameForErrors },
    );
  }
  const tensor = pool.input[0];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output?.forEach((o) => producer.set(o, i)));
  const keep = new Set<number>();
  const stack = [tensor];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const i = producer.get(name);
    if (i === undefined || keep.has(i)) continue;
    keep.add(i);
    for (const inp of nodes[i].input ?? []) if (inp) stack.push(inp);
    // Subgraph attributes (If/Loop) may read outer tensors; keep what they name too.
    for (const a of nodes[i].attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) for (const sn of g?.node ?? []) for (const inp of sn.input ?? []) if (inp) stack.push(inp);
  }
  const keptNodes = nodes.filter((_, i) => keep.has(i));
  graph.node = keptNodes;
  graph.initializer = (graph.initializer ?? []).filter((t) => seen.has(t.name ?? ""));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => seen.has(v.name ?? "") && v.name !== tensor);
  graph.output = [
    {
      name: tensor,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch_size" }, { dimParam: "channels" }, { dimParam: "grid_height" }, { dimParam: "grid_width" }] } } },
    },
  ];
  return { bytes: encodeModel(model), tensor, pooling: pool.opType ?? "", nodes: { kept: keptNodes.length, total: nodes.length } };
}

/** The edited model for a source file, from the cache or made now: `<cacheDir>/edited/<sha256>-featuremap.onnx`. */
export async function featureMapModel(sourcePath: string, cacheDir: string): Promise<{ path: string; sourceSha256: string; created: boolean }> {
  const sha = await fileSha256(sourcePath);
  const path = join(cacheDir, "edited", `${sha}-featuremap.onnx`);
  try {
    if ((await stat(path)).size > 0) return { path, sourceSha256: sha, created: false };
  } catch {
    // not cached yet
  }
  const edit = exposeFeatureMap(await readFile(sourcePath), sourcePath);
  await mkdir(join(cacheDir, "edited"), { recursive: true });
  const tmp = `${path}.part-${process.pid}`;
  await writeFile(tmp, edit.bytes);
  await rename(tmp, path);
  return { path, sourceSha256: sha, created: true };
}

export interface Resnet50Options extends ResolveOptions {
  /** Hub repository; default Xenova/resnet-50. */
  model?: string;
  revision?: string;
  dtype?: string;
  device?: Device;
  threads?: number;
  /** "shorter" (default), "imagenet" or "squash"; see RESNET_PREPROCESS. */
  preprocess?: string;
}

export interface PatchFeatures {
  /** (B, cells, channels) row-major. */
  data: Float32Array;
  shape: [number, number, number];
  /** Grid [height, width]; cells = height * width. */
  grid: [number, number];
}

export class Resnet50Encoder {
  private constructor(
    readonly resolved: ResolvedModel,
    readonly dtype: ModelDtype,
    readonly device: Device,
    readonly preprocess: PreprocessSpec,
    readonly editedPath: string,
    private readonly session: ort.InferenceSession,
    private readonly outputName: string,
  ) {}

  static async load(options: Resnet50Options = {}): Promise<Resnet50Encoder> {
    const id = options.model ?? MODELS.resnet50.id;
    const revision = options.revision ?? (id === MODELS.resnet50.id ? MODELS.resnet50.revision : "main");
    const dtype = checkDtype(options.dtype ?? "fp32");
    const device = checkDevice(options.device ?? "cpu");
    const preprocess = resnetPreprocess(options.preprocess ?? "shorter");
    const resolved = await resolveModelFiles(id, revision, filesFor(MODELS.resnet50, ["classifier"], dtype), options);
    const source = join(resolved.dir, onnxFile(MODELS.resnet50, "classifier", dtype));
    const edited = await featureMapModel(source, options.cacheDir ?? defaultCacheDir());
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(edited.path, {
        executionProviders: device === "cuda" ? ["cuda"] : ["cpu"],
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
    } catch (cause) {
      if (device === "cuda") throw cudaError(cause, `ResNet-50 (${source})`);
      throw new SatcError(`could not load ${edited.path} (edited from ${source}): ${(cause as Error).message}`, { file: edited.path, cause });
    }
    return new Resnet50Encoder(resolved, dtype, device, preprocess, edited.path, session, session.outputNames[0]);
  }

  async records(): Promise<ModelRecord[]> {
    return [await modelRecord(this.resolved, onnxFile(MODELS.resnet50, "classifier", this.dtype))];
  }

  /** Decoded images -> (B, cells, channels) patch features. */
  async encodeImages(images: RawImage[]): Promise<PatchFeatures> {
    const { data, dims } = preprocessBatch(images, this.preprocess);
    return this.encodePixelValues(data, dims);
  }

  /** Run on a preprocessed (B, 3, H, W) tensor. */
  async encodePixelValues(data: Float32Array, dims: readonly number[]): Promise<PatchFeatures> {
    const input = new ort.Tensor("float32", data, [...dims]);
    const out = (await this.session.run({ [this.session.inputNames[0]]: input }))[this.outputName];
    const [b, c, h, w] = out.dims.map(Number);
    if (out.dims.length !== 4 || b !== dims[0]) throw new SatcError(`ResNet-50 feature map has shape [${out.dims.join(",")}], expected [${dims[0]}, C, h, w]`);
    const src = out.data as Float32Array;
    const cells = h * w;
    const res = new Float32Array(b * cells * c);
    for (let i = 0; i < b; i++) {
      const o = i * c * cells;
      for (let ch = 0; ch < c; ch++) {
        const from = o + ch * cells;
        for (let p = 0; p < cells; p++) res[o + p * c + ch] = src[from + p];
      }
    }
    out.dispose?.();
    return { data: res, shape: [b, cells, c], grid: [h, w] };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
