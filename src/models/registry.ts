/**
 * The pretrained models satc knows by name, with the hub repository, a pinned revision and the
 * files each part of a model needs, in the layout transformers.js and the Hugging Face hub use:
 *
 *   <repo>/config.json
 *   <repo>/preprocessor_config.json
 *   <repo>/tokenizer.json, tokenizer_config.json      (CLIP only)
 *   <repo>/onnx/vision_model{suffix}.onnx             (CLIP image tower: pixel_values -> image_embeds)
 *   <repo>/onnx/text_model{suffix}.onnx               (CLIP text tower: input_ids -> text_embeds)
 *   <repo>/onnx/model{suffix}.onnx                    (ResNet-50 classifier: pixel_values -> logits)
 *
 * The suffix comes from the dtype, as in transformers.js: fp32 "", fp16 "_fp16", q8 "_quantized",
 * int8 "_int8", uint8 "_uint8", q4 "_q4", q4f16 "_q4f16", bnb4 "_bnb4".
 *
 * Revisions are hub commit ids, so a model never changes under a user between runs:
 * - Xenova/clip-vit-base-patch32 @ 4c1807b7: onnx/ holds vision_model, text_model and model in
 *   fp32, fp16 and quantized variants.
 * - Xenova/resnet-50 @ 6c3e3831: onnx/model.onnx (fp32, ~102 MB) and onnx/model_quantized.onnx.
 */
import { UsageError, expected } from "../errors.js";

export const DTYPE_SUFFIX = Object.freeze({
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
} as const);
export type ModelDtype = keyof typeof DTYPE_SUFFIX;

/** A part of a model that can be loaded on its own. */
export type ModelPart = "vision" | "text" | "classifier";

export interface RegisteredModel {
  /** satc's short name: "clip" or "resnet50". */
  name: string;
  /** Default hub repository. */
  id: string;
  /** Pinned hub revision (commit id) for the default repository. */
  revision: string;
  /** Parts and the ONNX file stem of each, under onnx/. */
  parts: Partial<Record<ModelPart, string>>;
  /** Non-ONNX files every part needs. */
  configFiles: Record<ModelPart, string[]> | Partial<Record<ModelPart, string[]>>;
  description: string;
}

export const MODELS = Object.freeze({
  clip: {
    name: "clip",
    id: "Xenova/clip-vit-base-patch32",
    revision: "4c1807b705b1d015fb032789cc4d221b23025a6f",
    parts: { vision: "vision_model", text: "text_model" },
    configFiles: {
      vision: ["config.json", "preprocessor_config.json"],
      text: ["config.json", "tokenizer.json", "tokenizer_config.json"],
    },
    description: "CLIP ViT-B/32: image_embeds and text_embeds, 512 each",
  },
  resnet50: {
    name: "resnet50",
    id: "Xenova/resnet-50",
    revision: "6c3e3831c3ad5c76f4e2326efeed6044586aad21",
    parts: { classifier: "model" },
    configFiles: { classifier: ["config.json", "preprocessor_config.json"] },
    description: "ResNet-50 (ImageNet): last-stage feature map, 7x7x2048 at 224 px",
  },
} satisfies Record<string, RegisteredModel>);
export type ModelName = keyof typeof MODELS;

export function registeredModel(name: string): RegisteredModel {
  if (!Object.hasOwn(MODELS, name)) throw new UsageError(expected(`one of ${Object.keys(MODELS).join(", ")}`, "model", name));
  return MODELS[name as ModelName];
}

export function checkDtype(dtype: string): ModelDtype {
  if (!Object.hasOwn(DTYPE_SUFFIX, dtype)) throw new UsageError(expected(`one of ${Object.keys(DTYPE_SUFFIX).join(", ")}`, "dtype", dtype));
  return dtype as ModelDtype;
}

/** Relative path of a part's ONNX file, e.g. "onnx/vision_model_quantized.onnx". */
export function onnxFile(model: RegisteredModel, part: ModelPart, dtype: ModelDtype = "fp32"): string {
  const stem = model.parts[part];
  if (stem === undefined) throw new UsageError(expected(`one of ${Object.keys(model.parts).join(", ")}`, `${model.name} part`, part));
  return `onnx/${stem}${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** Every file a set of parts needs, config files first, without duplicates. */
export function filesFor(model: RegisteredModel, parts: ModelPart[], dtype: ModelDtype = "fp32"): string[] {
  const files = new Set<string>();
  for (const p of parts) for (const f of (model.configFiles as Partial<Record<ModelPart, string[]>>)[p] ?? []) files.add(f);
  for (const p of parts) files.add(onnxFile(model, p, dtype));
  return [...files];
}
