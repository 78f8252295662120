/**
 * CLIP ViT-B/32 on ONNX Runtime through transformers.js (DESIGN 1, 2).
 *
 * - Image tower: `CLIPVisionModelWithProjection` on `onnx/vision_model{suffix}.onnx`,
 *   pixel_values (B, 3, 224, 224) -> image_embeds (B, 512).
 * - Text tower: `AutoTokenizer` (CLIP's BPE from tokenizer.json) with truncation at 77 tokens and
 *   `CLIPTextModelWithProjection` on `onnx/text_model{suffix}.onnx`, input_ids -> text_embeds (B, 512).
 *
 * Image preprocessing reads preprocessor_config.json (shortest_edge, crop_size, mean, std,
 * resample) and applies it with satc's Pillow-exact resampler (src/encoders/preprocess.ts) rather
 * than transformers.js' own resize: in Node that resize is sharp's affine interpolation, which does
 * not antialias when downscaling and so differs from the PIL pipeline (Hugging Face's
 * CLIPImageProcessor) that OpenAI's weights are evaluated with. The crop offset floors, as HF does.
 *
 * Embeddings come back raw (not normalised); callers normalise where the method says so.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RawImage } from "../input/dataset.js";
import type { ModelRecord } from "../run/record.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { type Matrix } from "../util/matrix.js";
import { MODELS, checkDtype, filesFor, onnxFile, type ModelDtype, type ModelPart } from "../models/registry.js";
import { modelRecord, resolveModelFiles, type ResolveOptions, type ResolvedModel } from "../models/resolve.js";
import { transformers } from "../models/transformers.js";
import { preprocessPixels, toTensor, type PreprocessSpec, type ResampleFilter } from "./preprocess.js";

export type Device = "cpu" | "cuda";

export interface ClipOptions extends ResolveOptions {
  /** Hub repository; default Xenova/clip-vit-base-patch32. */
  model?: string;
  /** Hub revision; default the pinned one for the default model, "main" for others. */
  revision?: string;
  /** Weights variant; default "fp32". */
  dtype?: string;
  device?: Device;
  /** Intra-op threads for ONNX Runtime; default all cores. */
  threads?: number;
  /** Which towers to load; default both. */
  parts?: ("vision" | "text")[];
}

/** Longest token sequence CLIP's text tower takes (its position embeddings). */
export const CLIP_MAX_TOKENS = 77;

export function checkDevice(device: string): Device {
  if (device !== "cpu" && device !== "cuda") throw new UsageError(expected("'cpu' or 'cuda'", "device", device));
  return device;
}

/** Turn an ONNX Runtime failure to start the CUDA provider into an actionable message. */
export function cudaError(cause: unknown, what: string): SatcError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new SatcError(
    `could not start ${what} on CUDA: ${msg}\n` +
      "onnxruntime-node's CUDA provider is not installed by default (the .npmrc skips its download). " +
      "On a Linux x64 machine with CUDA 12 and cuDNN 9, reinstall it with " +
      "`npm install onnxruntime-node --onnxruntime-node-install=true` (or ONNXRUNTIME_NODE_INSTALL=1), or use --device cpu.",
    { cause },
  );
}

interface PreprocessorConfig {
  size?: number | { shortest_edge?: number; height?: number; width?: number };
  crop_size?: number | { height: number; width: number };
  image_mean?: number[];
  image_std?: number[];
  resample?: number;
  do_center_crop?: boolean;
}

/** Read CLIP's preprocessor_config.json into a PreprocessSpec. */
export function clipPreprocessSpec(config: PreprocessorConfig, file = "preprocessor_config.json"): PreprocessSpec {
  const size = typeof config.size === "number" ? config.size : config.size?.shortest_edge;
  if (size === undefined || !Number.isInteger(size)) throw new SatcError(`${file}: expected size.shortest_edge (an integer), found ${JSON.stringify(config.size)}`, { file });
  const crop = config.do_center_crop === false ? null : typeof config.crop_size === "number" ? config.crop_size : config.crop_size?.height ?? size;
  if (typeof config.crop_size === "object" && config.crop_size.height !== config.crop_size.width) {
    throw new SatcError(`${file}: only square crops are supported, found ${config.crop_size.width}x${config.crop_size.height}`, { file });
  }
  // PIL resample codes: 2 bilinear, 3 bicubic (CLIP's).
  const filters: Record<number, ResampleFilter> = { 2: "bilinear", 3: "bicubic" };
  const filter = filters[config.resample ?? 3];
  if (filter === undefined) throw new SatcError(`${file}: resample ${config.resample} is not supported (2 bilinear or 3 bicubic)`, { file });
  const mean = config.image_mean ?? [0.48145466, 0.4578275, 0.40821073];
  const std = config.image_std ?? [0.26862954, 0.26130258, 0.27577711];
  return { resize: "shorter", size, crop, cropRounding: "floor", filter, mean, std };
}

type Pretrained = Awaited<ReturnType<typeof import("@huggingface/transformers").PreTrainedModel.from_pretrained>>;
type Tokenizer = Awaited<ReturnType<typeof import("@huggingface/transformers").AutoTokenizer.from_pretrained>>;

export class ClipEncoder {
  private constructor(
    readonly resolved: ResolvedModel,
    readonly dtype: ModelDtype,
    readonly device: Device,
    readonly preprocess: PreprocessSpec | null,
    private readonly vision: Pretrained | null,
    private readonly text: Pretrained | null,
    private readonly tokenizer: Tokenizer | null,
    private readonly parts: ModelPart[],
  ) {}

  /** Resolve (download once, or read from modelDir) and load the requested towers. */
  static async load(options: ClipOptions = {}): Promise<ClipEncoder> {
    const id = options.model ?? MODELS.clip.id;
    const revision = options.revision ?? (id === MODELS.clip.id ? MODELS.clip.revision : "main");
    const dtype = checkDtype(options.dtype ?? "fp32");
    const device = checkDevice(options.device ?? "cpu");
    const parts: ModelPart[] = options.parts ?? ["vision", "text"];
    if (parts.length === 0) throw new UsageError("CLIP: expected at least one of the parts 'vision', 'text'");
    const resolved = await resolveModelFiles(id, revision, filesFor(MODELS.clip, parts, dtype), options);
    const t = await transformers(options.cacheDir);
    const { availableParallelism } = await import("node:os");
    const loadOptions = {
      dtype,
      device,
      session_options: { intraOpNumThreads: options.threads ?? availableParallelism(), interOpNumThreads: 1, graphOptimizationLevel: "all" },
    } as const;
    let preprocess: PreprocessSpec | null = null;
    let vision: Pretrained | null = null;
    let text: Pretrained | null = null;
    let tokenizer: Tokenizer | null = null;
    const what = (p: string) => `CLIP ${p} tower ${join(resolved.dir, onnxFile(MODELS.clip, p as ModelPart, dtype))}`;
    try {
      if (parts.includes("vision")) {
        const file = join(resolved.dir, "preprocessor_config.json");
        preprocess = clipPreprocessSpec(JSON.parse(await readFile(file, "utf8")) as PreprocessorConfig, file);
        vision = await t.CLIPVisionModelWithProjection.from_pretrained(resolved.dir, loadOptions as never);
      }
      if (parts.includes("text")) {
        tokenizer = await t.AutoTokenizer.from_pretrained(resolved.dir);
        text = await t.CLIPTextModelWithProjection.from_pretrained(resolved.dir, loadOptions as never);
      }
    } catch (cause) {
      if (device === "cuda") throw cudaError(cause, what(vision === null && parts.includes("vision") ? "vision" : "text"));
      if (cause instanceof SatcError) throw cause;
      throw new SatcError(`could not load CLIP from ${resolved.dir}: ${(cause as Error).message}`, { file: resolved.dir, cause });
    }
    return new ClipEncoder(resolved, dtype, device, preprocess, vision, text, tokenizer, parts);
  }

  /** run.json records of the ONNX files in use. */
  async records(): Promise<ModelRecord[]> {
    return Promise.all(this.parts.map((p) => modelRecord(this.resolved, onnxFile(MODELS.clip, p, this.dtype))));
  }

  /** Images -> the (B, 3, crop, crop) tensor the vision tower takes. */
  pixelValues(images: RawImage[]): { data: Float32Array; dims: [number, number, number, number] } {
    if (this.preprocess === null) throw new UsageError("CLIP was loaded without its vision tower (parts)");
    const spec = this.preprocess;
    const ready = images.map((im) => preprocessPixels(im, spec));
    const side = ready[0]?.width ?? spec.crop ?? spec.size;
    return { data: toTensor(ready, spec.mean, spec.std), dims: [images.length, 3, ready[0]?.height ?? side, side] };
  }

  /** Image embeddings, (B, projection_dim) = (B, 512) for ViT-B/32; raw, not normalised. */
  async encodeImages(images: RawImage[]): Promise<Matrix> {
    if (this.vision === null) throw new UsageError("CLIP was loaded without its vision tower (parts)");
    const { data, dims } = this.pixelValues(images);
    return this.encodePixelValues(data, dims);
  }

  /** The vision tower on an already preprocessed NCHW tensor. */
  async encodePixelValues(data: Float32Array, dims: readonly number[]): Promise<Matrix> {
    if (this.vision === null) throw new UsageError("CLIP was loaded without its vision tower (parts)");
    const t = await transformers();
    const out = await this.vision({ pixel_values: new t.Tensor("float32", data, [...dims]) });
    return toMatrix(out.image_embeds, "image_embeds", dims[0]);
  }

  /**
   * Token ids as OpenAI's `clip.tokenize(truncate=True)` and Hugging Face's Python tokenizer make
   * them: <|startoftext|> ... <|endoftext|>, at most 77; a longer text keeps its first 75 tokens and
   * still ends with <|endoftext|> (transformers.js would cut the end token off, and CLIP's text tower
   * pools at that token). Rows are padded with the pad token to the longest row; mask 1 = real token.
   */
  tokenize(texts: string[]): { inputIds: number[][]; attentionMask: number[][] } {
    const tokenizer = this.tokenizer;
    if (tokenizer === null) throw new UsageError("CLIP was loaded without its text tower (parts)");
    const eos = tokenizer.eos_token_id;
    const pad = tokenizer.pad_token_id ?? eos;
    const rows = texts.map((text) => {
      const ids = tokenizer.encode(text);
      return ids.length > CLIP_MAX_TOKENS ? [...ids.slice(0, CLIP_MAX_TOKENS - 1), eos] : ids;
    });
    const width = Math.max(0, ...rows.map((r) => r.length));
    return {
      inputIds: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(pad)]),
      attentionMask: rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(width - r.length).fill(0)]),
    };
  }

  /** Text embeddings, (B, projection_dim) = (B, 512) for ViT-B/32; raw, not normalised. */
  async encodeTexts(texts: string[]): Promise<Matrix> {
    if (this.text === null || this.tokenizer === null) throw new UsageError("CLIP was loaded without its text tower (parts)");
    const t = await transformers();
    const { inputIds, attentionMask } = this.tokenize(texts);
    const dims = [texts.length, inputIds[0]?.length ?? 0];
    const ids = new t.Tensor("int64", BigInt64Array.from(inputIds.flat(), BigInt), dims);
    const mask = new t.Tensor("int64", BigInt64Array.from(attentionMask.flat(), BigInt), dims);
    const out = await this.text({ input_ids: ids, attention_mask: mask });
    return toMatrix(out.text_embeds, "text_embeds", texts.length);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.vision?.dispose(), this.text?.dispose()]);
  }
}

function toMatrix(tensor: { dims: number[]; data: unknown } | undefined, name: string, rows: number): Matrix {
  if (tensor === undefined) throw new SatcError(`the CLIP model has no output named '${name}'`);
  if (tensor.dims.length !== 2 || tensor.dims[0] !== rows) throw new SatcError(`CLIP ${name} has shape [${tensor.dims.join(",")}], expected [${rows}, d]`);
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as ArrayLike<number>);
  return { data, rows, cols: tensor.dims[1] };
}
