/**
 * Where a run's text view comes from (DESIGN 1.1-1.2), and the decision to use it:
 * - `--features <dir>`: the image embeddings and the noun bank (and, with TAC's files, the finished
 *   counterpart) were computed elsewhere;
 * - `--encoder clip`: the noun bank of CLIP's text tower, built once per model and cached;
 * - any other encoder has no text space: the text view is not available, and `--text on` is an error.
 * With `--text off` nothing is built and tau is not computed.
 */
import { UsageError } from "../errors.js";
import { FeatureStore, defaultFeatureStoreDir } from "../features/store.js";
import { ClipEncoder } from "../encoders/clip.js";
import type { ModelEncoderOptions } from "../encoders/index.js";
import { buildNounBank, prepareTextView, type TextFeatures, type TextMode, type TextView } from "../text/index.js";
import type { Matrix } from "../util/matrix.js";
import type { ModelRecord } from "./record.js";

export interface TextSource {
  /** How the run's images were encoded. */
  encoder: string;
  encoderOptions: Record<string, unknown>;
  /** Precomputed embeddings (--features), when given. */
  features: TextFeatures | null;
  cacheDir?: string | false;
  /** Use the first N of TAC's 7 templates for a bank built now. */
  templates?: number;
}

export interface TextViewResult {
  view: TextView | null;
  mode: TextMode;
  /** Why there is no text view, when there is none. */
  unavailable: string | null;
  models: ModelRecord[];
  bank: { templates: number; nouns: number; cached: boolean } | null;
}

export async function resolveTextView(
  images: Matrix,
  mode: TextMode,
  source: TextSource,
  options: { seed: number; onProgress?: (e: { stage: "nouns" | "text"; done?: number; total?: number; message?: string }) => void },
): Promise<TextViewResult> {
  const none = (unavailable: string | null): TextViewResult => ({ view: null, mode, unavailable, models: [], bank: null });
  if (mode === "off") return none(null);
  if (source.features) {
    const f = source.features;
    options.onProgress?.({ stage: "text", message: `counterpart from ${f.files.nouns ?? "the features folder"}` });
    const view = await prepareTextView(images, f.nouns, f.lemmas, { mode, seed: options.seed, counterpart: f.counterpart ?? undefined });
    return { view, mode, unavailable: null, models: [], bank: { templates: 0, nouns: f.nouns.rows, cached: true } };
  }
  if (source.encoder !== "clip") {
    const why = `the ${source.encoder} encoder has no text space (the text view needs CLIP image embeddings: --encoder clip, or --features)`;
    if (mode === "on") throw new UsageError(`--text on: ${why}`);
    return none(why);
  }
  const o = source.encoderOptions as ModelEncoderOptions;
  const clip = await ClipEncoder.load({ ...o, parts: ["text"] });
  try {
    const store = source.cacheDir === false ? undefined : new FeatureStore(source.cacheDir ?? defaultFeatureStoreDir());
    const bank = await buildNounBank(clip, {
      store,
      templates: source.templates,
      onProgress: (p) => options.onProgress?.({ stage: "nouns", done: p.done, total: p.total, message: `${p.promptsPerSecond.toFixed(0)} prompts/s` }),
    });
    if (bank.embeddings === null) throw new UsageError("the noun bank build stopped early; run it again to resume");
    options.onProgress?.({ stage: "text", message: `counterpart from ${bank.embeddings.rows} nouns` });
    const view = await prepareTextView(images, bank.embeddings, bank.lemmas, { mode, seed: options.seed });
    return { view, mode, unavailable: null, models: [bank.model], bank: { templates: bank.templates.length, nouns: bank.embeddings.rows, cached: bank.cached } };
  } finally {
    await clip.dispose();
  }
}
