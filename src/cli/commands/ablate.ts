/**
 * `satc ablate <input> -k <K>`: the spatial-view ablation (gat, gcn, transformer, mean, none), each
 * with and without the text view when the encoder gives one, with several seeds; one table of
 * mean ± std per metric on stdout (or one JSON document). A thin layer over runAblation; the model
 * options are satc cluster's (src/cli/modelOptions.ts).
 */
import { cacheDirFrom, cacheOptions, dataDirOption, jsonOption, quietOption } from "../commonOptions.js";
import type { CommandSpec } from "../args.js";
import { UsageError, expected } from "../../errors.js";
import type { EncoderName } from "../../encoders/index.js";
import { ablationTextModes, formatAblation, runAblation, type AblationTextMode } from "../../spatial/ablate.js";
import { encoderOptionsFrom, modelOptions, spatialChannelsOption } from "../modelOptions.js";
import { spatialVariants, type SpatialVariant } from "../../spatial/method.js";
import type { CliContext } from "../context.js";

export const ablateCommand: CommandSpec = {
  name: "ablate",
  summary: "Train the method with each spatial variant, with and without the text view, and several seeds; print mean ± std of ACC, NMI and ARI.",
  positionals: [
    { name: "<input>", description: "images with labels: a folder (sub-folders = labels), an IDX file with --labels, or fashion-mnist:train|test|all" },
  ],
  options: [
    { name: "k", short: "k", type: "integer", value: "<K>", description: "number of clusters", required: true, min: 1 },
    { name: "eval", type: "string", value: "<input>", description: "a second input scored with the trained visual head" },
    { name: "variants", type: "string", value: "<list>", description: `comma-separated spatial variants (${spatialVariants.join(", ")})`, default: spatialVariants.join(",") },
    { name: "seeds", type: "integer", value: "<n>", description: "seeds per row", default: 3, min: 1 },
    { name: "seed", type: "integer", value: "<n>", description: "first seed", default: 0, min: 0 },
    ...modelOptions,
    spatialChannelsOption,
    { name: "text", type: "string", value: "<mode>", description: "each variant with the text view and without (both), only with (on), only without (off), or as the selector decides, tau > 0.33 (auto) [default: both with --encoder clip, else off]", choices: ablationTextModes },
    { name: "epochs", type: "integer", value: "<n>", description: "most training epochs", default: 200, min: 1 },
    { name: "patience", type: "integer", value: "<n>", description: "stop after this many epochs without a lower loss", default: 10, min: 1 },
    { name: "graph-k", type: "integer", value: "<n>", description: "patch-graph neighbours per node (plus a self loop)", default: 8, min: 0 },
    { name: "positions", type: "boolean", description: "append each node's cell index (one-hot) to its features (--no-positions: off)", default: true },
    { name: "labels", type: "string", value: "<file>", description: "labels for a .npy or IDX input" },
    dataDirOption,
    ...cacheOptions,
    { name: "threads", type: "integer", value: "<n>", description: "ONNX Runtime threads [default: all cores]", min: 1 },
    jsonOption,
    quietOption,
  ],
  examples: [
    "satc ablate fashion-mnist:train -k 10 --eval fashion-mnist:test",
    "satc ablate ~/photos -k 8 --variants gat,none --seeds 5",
    "satc ablate ~/photos -k 8 --encoder clip --model-dir ~/models --variants gat,none --text both",
  ],
};

/** Parse --variants: a comma-separated list of known variants, no repeats. */
export function parseVariants(raw: string): SpatialVariant[] {
  const list = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new UsageError(expected("a comma-separated list of variants", "--variants", raw));
  for (const v of list) {
    if (!spatialVariants.includes(v as SpatialVariant)) throw new UsageError(expected(`one of ${spatialVariants.map((s) => `'${s}'`).join(", ")}`, "--variants", v));
  }
  if (new Set(list).size !== list.length) throw new UsageError(`--variants lists a variant twice: ${raw}`);
  return list as SpatialVariant[];
}

export async function runAblateCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const input = positionals[0];
  const variants = parseVariants(String(options.variants ?? spatialVariants.join(",")));
  const seeds = (options.seeds as number | undefined) ?? 3;
  const progress = ctx.progress(Boolean(options.quiet));
  const result = await runAblation({
    input,
    k: options.k as number,
    evalInput: options.eval as string | undefined,
    dataDir: options["data-dir"] as string | undefined,
    labels: options.labels as string | undefined,
    encoder: (options.encoder as EncoderName | undefined) ?? "pixels",
    encoderOptions: encoderOptionsFrom(options),
    spatialNodes: { channels: options["spatial-channels"] as number | undefined },
    text: options.text as AblationTextMode | undefined,
    templates: options.templates as number | undefined,
    variants,
    seeds,
    seed: (options.seed as number | undefined) ?? 0,
    epochs: options.epochs as number | undefined,
    patience: options.patience as number | undefined,
    threads: options.threads as number | undefined,
    cacheDir: cacheDirFrom(options),
    method: { graphK: options["graph-k"] as number | undefined, positions: options.positions !== false },
    onProgress: progress.onProgress,
  });
  progress.done();
  if (options.json) {
    const { n, evalN, encoder, spatialNodes, text, summary, runs } = result;
    ctx.stdout.write(JSON.stringify({ n, evalN, seeds, encoder, spatialNodes, text, summary, runs }) + "\n");
  } else {
    ctx.stdout.write(formatAblation(result, { input, evalInput: options.eval as string | undefined }, seeds));
  }
  return 0;
}
