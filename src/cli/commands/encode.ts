/**
 * `satc encode <input> --encoder <name>`: encode an input into the feature cache without
 * clustering, so a later `satc cluster` with the same input and encoder starts at once.
 */
import { cacheDirOption, dataDirOption, jsonOption, quietOption } from "../commonOptions.js";
import type { CommandSpec } from "../args.js";
import { openDataset } from "../../input/index.js";
import { encodeFeatures, type EncoderName } from "../../encoders/index.js";
import type { CliContext } from "../context.js";
import { encoderOption, encoderOptionsFrom, imageModelOptions } from "../modelOptions.js";

export const encodeCommand: CommandSpec = {
  name: "encode",
  summary: "Encode the images of <input> into the feature cache (.npy + manifest) without clustering.",
  positionals: [{ name: "<input>", description: "a folder of images, an IDX file, or a dataset spec such as fashion-mnist:train" }],
  options: [
    encoderOption,
    ...imageModelOptions,
    dataDirOption,
    cacheDirOption,
    jsonOption,
    quietOption,
  ],
  examples: ["satc encode fashion-mnist:train --encoder pixels", "satc encode ~/photos --encoder clip --model-dir ~/models"],
};

export async function runEncodeCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const progress = ctx.progress(Boolean(options.quiet));
  const started = performance.now();
  progress.onProgress({ stage: "open", message: `opening ${positionals[0]}` });
  const dataset = await openDataset(positionals[0], { dataDir: options["data-dir"] as string | undefined });
  const encoded = await encodeFeatures(dataset, options.encoder as EncoderName, encoderOptionsFrom(options), {
    cacheDir: options["cache-dir"] as string | undefined,
    onProgress: (p) => progress.onProgress({ stage: "encode", done: p.done, total: p.total, message: dataset.name }),
  });
  progress.done();
  const doc = {
    n: encoded.global.rows,
    dims: encoded.global.cols,
    encoder: encoded.info,
    cached: encoded.cached,
    path: encoded.path,
    skipped: dataset.skipped.length,
    seconds: (performance.now() - started) / 1000,
  };
  if (options.json) ctx.stdout.write(JSON.stringify(doc) + "\n");
  else
    ctx.stdout.write(
      `encoded ${doc.n} item(s) of ${dataset.source} with ${encoded.info.name}${encoded.info.baseline ? " (weight-free baseline)" : ""}: ` +
        `(${doc.n}, ${doc.dims})${encoded.cached ? " from the cache" : ""} -> ${doc.path}\n` +
        (doc.skipped ? `skipped ${doc.skipped} unreadable item(s)\n` : ""),
    );
  return 0;
}
