/**
 * `satc nouns build`: build the noun bank of the text view (every WordNet noun through CLIP's text
 * tower with TAC's templates) ahead of time, into the feature store, where every dataset shares it.
 * Ctrl-C stops after the current batch; the same command resumes from what was written.
 */
import { resolve } from "node:path";
import { UsageError } from "../../errors.js";
import { cacheDirOption, jsonOption, quietOption } from "../commonOptions.js";
import type { CommandSpec } from "../args.js";
import type { CliContext } from "../context.js";
import { ClipEncoder } from "../../encoders/clip.js";
import { FeatureStore, defaultFeatureStoreDir } from "../../features/store.js";
import { buildNounBank, TAC_TEMPLATES, type NounBankProgress } from "../../text/nounBank.js";

export const nounsCommand: CommandSpec = {
  name: "nouns",
  summary: "Build the text view's WordNet noun bank with CLIP's text tower (once per model; resumable).",
  positionals: [{ name: "build", description: "the action (only 'build' for now)" }],
  options: [
    { name: "model-dir", type: "string", value: "<dir>", description: "local folder with the models (offline machines)" },
    { name: "templates", type: "integer", value: "<n>", description: `use the first n of TAC's ${TAC_TEMPLATES.length} prompt templates (fewer is faster; recorded)`, default: TAC_TEMPLATES.length, min: 1, max: TAC_TEMPLATES.length },
    { name: "batch-size", type: "integer", value: "<n>", description: "nouns per text-tower run (x templates prompts)", default: 32, min: 1 },
    { name: "dtype", type: "string", value: "<name>", description: "CLIP weights variant", default: "fp32" },
    { name: "device", type: "string", value: "<name>", description: "where the text tower runs", choices: ["cpu", "cuda"], default: "cpu" },
    { name: "threads", type: "integer", value: "<n>", description: "ONNX Runtime threads [default: all cores]", min: 1 },
    { name: "max-nouns", type: "integer", value: "<n>", description: "stop (resumably) after this many nouns in this run", min: 1 },
    cacheDirOption,
    jsonOption,
    quietOption,
  ],
  examples: ["satc nouns build", "satc nouns build --model-dir ~/models --templates 3"],
};

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export async function runNounsCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  if (positionals[0] !== "build") throw new UsageError(`unknown action '${positionals[0] ?? ""}' for 'satc nouns'; expected 'build'`);
  const progress = ctx.progress(Boolean(options.quiet));
  const modelDir = options["model-dir"] === undefined ? undefined : resolve(options["model-dir"] as string);
  progress.onProgress({ stage: "nouns", message: "loading CLIP's text tower" });
  const clip = await ClipEncoder.load({
    modelDir,
    parts: ["text"],
    dtype: options.dtype as string,
    device: options.device as "cpu" | "cuda",
    threads: options.threads as number | undefined,
  });
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  let last: NounBankProgress | null = null;
  try {
    const bank = await buildNounBank(clip, {
      templates: options.templates as number,
      batchSize: options["batch-size"] as number,
      store: new FeatureStore((options["cache-dir"] as string | undefined) ?? defaultFeatureStoreDir()),
      maxNouns: options["max-nouns"] as number | undefined,
      signal: controller.signal,
      onProgress: (e) => {
        last = e;
        const eta = e.etaSeconds === null ? "" : `, ETA ${duration(e.etaSeconds)}`;
        progress.onProgress({ stage: "nouns", done: e.done, total: e.total, message: `${e.promptsPerSecond.toFixed(0)} prompts/s${eta}` });
      },
    });
    progress.done();
    const rate = (last as NounBankProgress | null)?.promptsPerSecond ?? null;
    const complete = bank.embeddings !== null;
    const doc = {
      complete,
      nouns: bank.nouns.n,
      done: complete ? bank.nouns.n : bank.done,
      dims: complete ? bank.embeddings.cols : null,
      templates: bank.templates,
      model: bank.model,
      cached: complete ? bank.cached : false,
      resumedFrom: bank.resumedFrom,
      promptsPerSecond: rate,
      seconds: bank.seconds,
      dir: bank.dir,
    };
    if (options.json) ctx.stdout.write(JSON.stringify(doc) + "\n");
    else if (complete) {
      const how = doc.cached ? "already built" : `built in ${duration(doc.seconds)}${rate ? ` (${rate.toFixed(0)} prompts/s)` : ""}${doc.resumedFrom ? `, resumed at ${doc.resumedFrom}` : ""}`;
      ctx.stdout.write(`noun bank: ${doc.nouns} WordNet nouns x ${doc.templates.length} template(s), (${doc.nouns}, ${doc.dims}) unit rows, ${how}\n${doc.dir}\n`);
    } else {
      ctx.stdout.write(`noun bank stopped at ${doc.done} of ${doc.nouns} nouns; run the same command again to resume\n${doc.dir}\n`);
    }
    return 0;
  } finally {
    process.removeListener("SIGINT", onSigint);
    await clip.dispose();
  }
}
