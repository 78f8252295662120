/**
 * The model options of the commands that encode images and build the text view (satc cluster,
 * satc ablate): which encoder, where its models are (`--model-dir` for offline machines), where
 * they run, how many prompt templates a noun bank built now uses, and how many channels ResNet-50's
 * spatial nodes keep. One table and one
 * translation into encoder options, so the commands take the same options the same way.
 */
import { resolve } from "node:path";
import type { OptionSpec } from "./args.js";
import { encoderNames } from "../encoders/index.js";

export const encoderOption: OptionSpec = { name: "encoder", type: "string", value: "<name>", description: "image encoder", choices: encoderNames, default: "pixels" };

/** --model-dir, --device, --batch-size: where the image models are and how they run. */
export const imageModelOptions: readonly OptionSpec[] = [
  { name: "model-dir", type: "string", value: "<dir>", description: "local folder with the models (offline machines); see README" },
  { name: "device", type: "string", value: "<name>", description: "where clip/resnet50 run", choices: ["cpu", "cuda"], default: "cpu" },
  { name: "batch-size", type: "integer", value: "<n>", description: "images per batch for clip/resnet50", default: 32, min: 1 },
];

/** --encoder, the image model options, --templates. */
export const modelOptions: readonly OptionSpec[] = [
  encoderOption,
  ...imageModelOptions,
  { name: "templates", type: "integer", value: "<n>", description: "prompt templates for a noun bank built now (1-7)", min: 1, max: 7 },
];

/** How many of ResNet-50's 2048 channels the spatial nodes of clip/resnet50 runs keep (RunOptions.spatialNodes.channels). */
export const spatialChannelsOption: OptionSpec = {
  name: "spatial-channels", type: "integer", value: "<n>", description: "channels kept of ResNet-50's 2048 (PCA fitted on 1,000 images) for clip/resnet50 spatial views", default: 64, min: 1,
};

/** Options of the pretrained encoders from parsed command-line options (the pixels encoder takes none here). */
export function encoderOptionsFrom(options: Record<string, unknown>): Record<string, unknown> {
  if (options.encoder === "pixels") return {};
  const o: Record<string, unknown> = { device: options.device };
  if (options["model-dir"] !== undefined) o.modelDir = resolve(options["model-dir"] as string);
  if (options["batch-size"] !== undefined) o.batchSize = options["batch-size"];
  return o;
}
