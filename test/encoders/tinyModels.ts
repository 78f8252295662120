/**
 * Tiny stand-ins for the real hub models, written in their real layout with real input/output names
 * and real-shaped config files, so the tests run every loading path offline.
 *
 * CLIP (Xenova/clip-vit-base-patch32 layout):
 *   vision_model.onnx: pixel_values (B,3,S,S) -> GlobalAveragePool -> Flatten -> MatMul W (3,P) -> image_embeds (B,P)
 *   text_model.onnx:   input_ids (B,T) int64, attention_mask (B,T) int64
 *                      -> Gather E (V,P) -> x mask -> ReduceSum over T -> text_embeds (B,P)
 *   tokenizer.json: CLIP's real pipeline (NFC, whitespace squeeze, lowercase; CLIP's split regex;
 *   byte-level; BPE with "</w>" word ends; RobertaProcessing with <|startoftext|>/<|endoftext|>)
 *   with a tiny vocabulary: the 256 byte symbols, the same with "</w>", a few merges, the two specials.
 * ResNet-50 (Xenova/resnet-50 layout): a tiny CNN classifier
 *   pixel_values (B,3,H,W) -> Conv 3x3 stride 2 (3->C) -> Relu -> Conv 3x3 stride 2 (C->C) -> Relu [feature map]
 *   -> GlobalAveragePool -> Flatten -> Gemm (C->L) -> logits (B,L)
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { buildModel } from "../../src/onnx/graph.js";
import { Random } from "../../src/util/random.js";

async function put(root: string, rel: string, body: string | Uint8Array): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), body);
}

function randn(rng: Random, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** GPT-2/CLIP's byte -> printable unicode symbol table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i])));
  return table;
}

export const TINY_CLIP_MERGES = ["c a", "ca t</w>", "d o", "do g</w>", "p h", "ph o", "pho t", "phot o</w>", "o f</w>"];

export interface TinyClip {
  dir: string;
  projection: number;
  vocab: Map<string, number>;
  /** (3, projection) row-major: image_embeds = mean over pixels of each channel x W. */
  visionW: Float32Array;
  /** (vocab, projection). */
  textE: Float32Array;
  bos: number;
  eos: number;
  cropSize: number;
  shortestEdge: number;
}

export async function writeTinyClip(dir: string, options: { cropSize?: number; seed?: number; suffix?: string } = {}): Promise<TinyClip> {
  const rng = new Random(options.seed ?? 11);
  const P = 8;
  const crop = options.cropSize ?? 32;
  const suffix = options.suffix ?? "";
  const sym = bytesToUnicode();
  const vocab = new Map<string, number>();
  for (const s of sym) vocab.set(s, vocab.size);
  for (const s of sym) vocab.set(`${s}</w>`, vocab.size);
  for (const m of TINY_CLIP_MERGES) vocab.set(m.replace(" ", ""), vocab.size);
  const bos = vocab.size;
  const eos = vocab.size + 1;
  const V = vocab.size + 2;

  const specials = [
    { id: bos, content: "<|startoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    { id: eos, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
  ];
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: { type: "Sequence", normalizers: [{ type: "NFC" }, { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }, { type: "Lowercase" }] },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: "Removed",
          invert: true,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: "RobertaProcessing", sep: ["<|endoftext|>", eos], cls: ["<|startoftext|>", bos], trim_offsets: false, add_prefix_space: false },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<|endoftext|>",
      continuing_subword_prefix: "",
      end_of_word_suffix: "</w>",
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries([...vocab.entries(), ["<|startoftext|>", bos], ["<|endoftext|>", eos]]),
      merges: TINY_CLIP_MERGES,
    },
  };
  const tokenizerConfig = {
    add_prefix_space: false,
    bos_token: "<|startoftext|>",
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: "<|endoftext|>",
    errors: "replace",
    model_max_length: 77,
    pad_token: "<|endoftext|>",
    tokenizer_class: "CLIPTokenizer",
    unk_token: "<|endoftext|>",
  };
  const config = {
    _name_or_path: "openai/clip-vit-base-patch32",
    architectures: ["CLIPModel"],
    initializer_factor: 1.0,
    logit_scale_init_value: 2.6592,
    model_type: "clip",
    projection_dim: P,
    text_config: { hidden_size: P, intermediate_size: 16, max_position_embeddings: 77, model_type: "clip_text_model", num_attention_heads: 1, num_hidden_layers: 1, vocab_size: V, bos_token_id: bos, eos_token_id: eos, pad_token_id: 1 },
    vision_config: { hidden_size: P, image_size: crop, intermediate_size: 16, model_type: "clip_vision_model", num_attention_heads: 1, num_hidden_layers: 1, patch_size: crop / 2 },
    transformers_version: "4.33.0",
  };
  const preprocessor = {
    crop_size: { height: crop, width: crop },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: "CLIPFeatureExtractor",
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_processor_type: "CLIPImageProcessor",
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: crop },
  };

  const visionW = randn(rng, 3 * P);
  const vision = buildModel({
    name: "clip_vision",
    inputs: [{ name: "pixel_values", type: "float", shape: ["batch_size", 3, crop, crop] }],
    outputs: [{ name: "image_embeds", type: "float", shape: ["batch_size", P] }],
    initializers: [{ name: "visual_projection.weight", type: "float", dims: [3, P], data: visionW }],
    nodes: [
      { op: "GlobalAveragePool", inputs: ["pixel_values"], outputs: ["pooled"] },
      { op: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "MatMul", inputs: ["flat", "visual_projection.weight"], outputs: ["image_embeds"] },
    ],
  });
  const textE = randn(rng, V * P);
  const text = buildModel({
    name: "clip_text",
    inputs: [
      { name: "input_ids", type: "int64", shape: ["batch_size", "sequence_length"] },
      { name: "attention_mask", type: "int64", shape: ["batch_size", "sequence_length"] },
    ],
    outputs: [{ name: "text_embeds", type: "float", shape: ["batch_size", P] }],
    initializers: [
      { name: "token_embedding.weight", type: "float", dims: [V, P], data: textE },
      { name: "axes_last", type: "int64", dims: [1], data: BigInt64Array.from([2n]) },
      { name: "axes_seq", type: "int64", dims: [1], data: BigInt64Array.from([1n]) },
    ],
    nodes: [
      { op: "Gather", inputs: ["token_embedding.weight", "input_ids"], outputs: ["emb"], attributes: { axis: 0 } },
      { op: "Cast", inputs: ["attention_mask"], outputs: ["mask_f"], attributes: { to: 1 } },
      { op: "Unsqueeze", inputs: ["mask_f", "axes_last"], outputs: ["mask3"] },
      { op: "Mul", inputs: ["emb", "mask3"], outputs: ["masked"] },
      { op: "ReduceSum", inputs: ["masked", "axes_seq"], outputs: ["text_embeds"], attributes: { keepdims: 0 } },
    ],
  });
  await put(dir, "config.json", JSON.stringify(config, null, 2));
  await put(dir, "preprocessor_config.json", JSON.stringify(preprocessor, null, 2));
  await put(dir, "tokenizer.json", JSON.stringify(tokenizer));
  await put(dir, "tokenizer_config.json", JSON.stringify(tokenizerConfig, null, 2));
  await put(dir, `onnx/vision_model${suffix}.onnx`, vision);
  await put(dir, `onnx/text_model${suffix}.onnx`, text);
  return { dir, projection: P, vocab, visionW, textE, bos, eos, cropSize: crop, shortestEdge: crop };
}

export interface TinyResnet {
  dir: string;
  channels: number;
  labels: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/**
 * A tiny CNN classifier in Xenova/resnet-50's layout. `pooling` chooses how the final global pooling
 * is written: GlobalAveragePool (torch's AdaptiveAvgPool2d(1) export) or ReduceMean over axes 2,3.
 */
export async function writeTinyResnet(dir: string, options: { seed?: number; pooling?: "gap" | "reducemean" } = {}): Promise<TinyResnet> {
  const rng = new Random(options.seed ?? 5);
  const C = 4;
  const L = 3;
  const w1 = randn(rng, C * 3 * 3 * 3, 0.3);
  const b1 = randn(rng, C, 0.1);
  const w2 = randn(rng, C * C * 3 * 3, 0.3);
  const b2 = randn(rng, C, 0.1);
  const fc = randn(rng, L * C);
  const fcb = randn(rng, L);
  const pool =
    options.pooling === "reducemean"
      ? { op: "ReduceMean", inputs: ["/resnet/encoder/stages.3/relu"], outputs: ["/resnet/pooler/pool"], attributes: { axes: [2, 3], keepdims: 1 } }
      : { op: "GlobalAveragePool", inputs: ["/resnet/encoder/stages.3/relu"], outputs: ["/resnet/pooler/pool"] };
  const model = buildModel({
    name: "main_graph",
    opset: 17,
    inputs: [{ name: "pixel_values", type: "float", shape: ["batch_size", "num_channels", "height", "width"] }],
    outputs: [{ name: "logits", type: "float", shape: ["batch_size", L] }],
    initializers: [
      { name: "conv1.weight", type: "float", dims: [C, 3, 3, 3], data: w1 },
      { name: "conv1.bias", type: "float", dims: [C], data: b1 },
      { name: "conv2.weight", type: "float", dims: [C, C, 3, 3], data: w2 },
      { name: "conv2.bias", type: "float", dims: [C], data: b2 },
      { name: "classifier.1.weight", type: "float", dims: [L, C], data: fc },
      { name: "classifier.1.bias", type: "float", dims: [L], data: fcb },
    ],
    nodes: [
      { op: "Conv", inputs: ["pixel_values", "conv1.weight", "conv1.bias"], outputs: ["c1"], attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { op: "Relu", inputs: ["c1"], outputs: ["r1"] },
      { op: "Conv", inputs: ["r1", "conv2.weight", "conv2.bias"], outputs: ["c2"], attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { op: "Relu", inputs: ["c2"], outputs: ["/resnet/encoder/stages.3/relu"] },
      pool,
      { op: "Flatten", inputs: ["/resnet/pooler/pool"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "Gemm", inputs: ["flat", "classifier.1.weight", "classifier.1.bias"], outputs: ["logits"], attributes: { transB: 1 } },
    ],
  });
  const config = {
    _name_or_path: "microsoft/resnet-50",
    architectures: ["ResNetForImageClassification"],
    depths: [3, 4, 6, 3],
    downsample_in_first_stage: false,
    embedding_size: 64,
    hidden_act: "relu",
    hidden_sizes: [256, 512, 1024, C],
    id2label: Object.fromEntries(Array.from({ length: L }, (_, i) => [String(i), `class ${i}`])),
    label2id: Object.fromEntries(Array.from({ length: L }, (_, i) => [`class ${i}`, i])),
    layer_type: "bottleneck",
    model_type: "resnet",
    num_channels: 3,
    transformers_version: "4.33.0",
  };
  const preprocessor = {
    crop_pct: 0.875,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_processor_type: "ConvNextImageProcessor",
    image_std: [0.229, 0.224, 0.225],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: 224 },
  };
  await put(dir, "config.json", JSON.stringify(config, null, 2));
  await put(dir, "preprocessor_config.json", JSON.stringify(preprocessor, null, 2));
  await put(dir, "onnx/model.onnx", model);
  return { dir, channels: C, labels: L, w1, b1, w2, b2 };
}

/** Plain-JS 3x3 stride-2 pad-1 convolution + bias + ReLU, (cin, h, w) -> (cout, ceil(h/2), ceil(w/2)). */
export function convRelu(x: Float32Array, cin: number, h: number, w: number, weight: Float32Array, bias: Float32Array, cout: number): { data: Float32Array; h: number; w: number } {
  const oh = Math.floor((h + 2 - 3) / 2) + 1;
  const ow = Math.floor((w + 2 - 3) / 2) + 1;
  const out = new Float32Array(cout * oh * ow);
  for (let o = 0; o < cout; o++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let s = bias[o];
        for (let c = 0; c < cin; c++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y * 2 - 1 + ky;
              const ix = xx * 2 - 1 + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              s += x[(c * h + iy) * w + ix] * weight[((o * cin + c) * 3 + ky) * 3 + kx];
            }
        out[(o * oh + y) * ow + xx] = Math.max(0, s);
      }
  return { data: out, h: oh, w: ow };
}
