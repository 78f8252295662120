/**
 * The noun bank (DESIGN 1.1, step 1): every WordNet noun through CLIP's text tower with TAC's 7
 * prompt templates, the raw text embeddings averaged over the templates, then L2-normalised
 * (as TAC's text_embedding.py, which averages encode_text outputs and normalises on load).
 *
 * The bank depends only on the text model, the noun list and the templates, so it is stored once
 * in the feature store under a key made of those (model id, revision and text-tower file hash;
 * the noun list's sha256; the template strings) and shared by every dataset.
 *
 * Building is resumable: rows are streamed to `<store root>/<key hash>.building/embeddings.npy`
 * (src/features/stream.ts), so an interrupted build (signal, `maxNouns`, a crash) continues from
 * the last row on disk; when complete, the bank is put in the store and the building folder goes.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { SatcError, UsageError, expected } from "../errors.js";
import { FeatureStore, canonicalJson, featureKeyHash, type FeatureKey } from "../features/store.js";
import { readNpy } from "../features/npy.js";
import { openRowWriter, type RowWriter } from "../features/stream.js";
import type { ModelRecord } from "../run/record.js";
import type { Matrix } from "../util/matrix.js";
import { loadWordNetNouns, type WordNetNouns } from "./nouns.js";

/** TAC's prompt templates (OpenAI's short ImageNet list), in TAC's order; "{}" is the noun. */
export const TAC_TEMPLATES: readonly string[] = Object.freeze([
  "itap of a {}.",
  "a bad photo of the {}.",
  "a origami {}.",
  "a photo of the large {}.",
  "a {} in a video game.",
  "art of the {}.",
  "a photo of the small {}.",
]);

/** What the bank needs from a text encoder (ClipEncoder is one). */
export interface TextTower {
  /** Raw text embeddings (texts.length, dim), tokenised with truncation at 77 tokens. */
  encodeTexts(texts: string[]): Promise<Matrix>;
  /** Model records; the one whose file names the text tower identifies the bank. */
  records(): Promise<ModelRecord[]>;
}

export interface NounBankProgress {
  stage: "nouns";
  /** Nouns done (including those resumed) and total. */
  done: number;
  total: number;
  /** Prompts per second in this run (nouns x templates), and seconds left at that rate (null before the first batch). */
  promptsPerSecond: number;
  etaSeconds: number | null;
  /** Nouns found already embedded when this run started. */
  resumedFrom: number;
  templates: number;
}

export interface NounBankOptions {
  /** Use the first N of TAC's 7 templates (fewer = faster, recorded in the key). Default 7. */
  templates?: number;
  /** Nouns per text-tower run (prompts per run = this x templates). Default 32. */
  batchSize?: number;
  /** Where banks live; default the user's feature store. */
  store?: FeatureStore;
  /** The noun list; default every WordNet 3.1 noun (loadWordNetNouns). */
  nouns?: WordNetNouns;
  /** Stop (resumably) once this many nouns are done in this run; for tests and time limits. */
  maxNouns?: number;
  /** Stop (resumably) after the current batch when aborted. */
  signal?: AbortSignal;
  onProgress?: (event: NounBankProgress) => void;
}

export interface NounBankInfo {
  /** The text tower the bank came from. */
  model: ModelRecord;
  templates: string[];
  nouns: { source: string; version: string; sha256: string; n: number };
  /** The store entry (complete) or building folder (incomplete). */
  dir: string;
}

export interface NounBank extends NounBankInfo {
  /** Unit rows (nNouns, dim). */
  embeddings: Matrix;
  lemmas: string[];
  /** True when read from the store rather than built (or finished) in this call. */
  cached: boolean;
  resumedFrom: number;
  seconds: number;
}

/** An unfinished build (interrupted or stopped at maxNouns): rerun to resume. */
export interface PartialNounBank extends NounBankInfo {
  embeddings: null;
  done: number;
  total: number;
  resumedFrom: number;
  seconds: number;
}

/** The text tower's record among an encoder's records (the one whose file says "text"). */
export async function textModelRecord(tower: TextTower): Promise<ModelRecord> {
  const records = await tower.records();
  const r = records.find((x) => /text/i.test(x.file)) ?? (records.length === 1 ? records[0] : undefined);
  if (r === undefined) throw new SatcError(`the text encoder has no text-tower model record (files: ${records.map((x) => x.file).join(", ") || "none"})`);
  return r;
}

/** The feature-store key of a bank: text model, noun list and templates. */
export function nounBankKey(model: ModelRecord, nouns: Pick<WordNetNouns, "source" | "version" | "sha256"> & { n: number }, templates: readonly string[]): FeatureKey {
  return {
    input: { source: `wordnet ${nouns.version} ${nouns.source}`, fingerprint: `nouns:${nouns.sha256}`, n: nouns.n },
    encoder: {
      name: "clip-text-noun-bank",
      options: { model: model.id, revision: model.revision, file: model.file, sha256: model.sha256, templates: [...templates], truncate: 77, pooling: "mean-then-normalise" },
    },
  };
}

/** The templates in use: the first `count` of TAC's. */
export function nounTemplates(count: number = TAC_TEMPLATES.length): string[] {
  if (!Number.isInteger(count) || count < 1 || count > TAC_TEMPLATES.length) {
    throw new UsageError(expected(`an integer from 1 to ${TAC_TEMPLATES.length}`, "--templates", count));
  }
  return TAC_TEMPLATES.slice(0, count);
}

/** The prompt of a template for a noun. */
export function prompt(template: string, noun: string): string {
  return template.replace("{}", noun);
}

/**
 * The noun bank of `tower`: from the store when it is there, else built (or an interrupted build
 * continued) and stored. Returns a PartialNounBank when stopped early by `maxNouns` or `signal`.
 */
export async function buildNounBank(tower: TextTower, options: NounBankOptions = {}): Promise<NounBank | PartialNounBank> {
  const started = performance.now();
  const templates = nounTemplates(options.templates ?? TAC_TEMPLATES.length);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(expected("an integer >= 1", "batch size", batchSize));
  const store = options.store ?? new FeatureStore();
  const nouns = options.nouns ?? (await loadWordNetNouns());
  const total = nouns.lemmas.length;
  const model = await textModelRecord(tower);
  const nounInfo = { source: nouns.source, version: nouns.version, sha256: nouns.sha256, n: total };
  const key = nounBankKey(model, nounInfo, templates);
  const info = { model, templates, nouns: nounInfo };

  const stored = await store.get(key, ["embeddings"]);
  if (stored !== null) {
    const e = stored.arrays.embeddings;
    return { ...info, dir: stored.dir, embeddings: { data: e.data as Float32Array, rows: e.shape[0], cols: e.shape[1] }, lemmas: nouns.lemmas, cached: true, resumedFrom: total, seconds: (performance.now() - started) / 1000 };
  }

  const building = join(store.root, `${featureKeyHash(key)}.building`);
  const path = join(building, "embeddings.npy");
  const writerKey = canonicalJson({ key: featureKeyHash(key), batch: "rows" });
  let writer: RowWriter | null = null;
  let dim = 0;
  let start = 0;
  let resumedFrom = 0;
  let doneThisRun = 0;
  const limit = options.maxNouns ?? Infinity;
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? (doneThisRun * templates.length) / seconds : 0;
    options.onProgress?.({ stage: "nouns", done: start, total, promptsPerSecond: rate, etaSeconds: rate > 0 ? ((total - start) * templates.length) / rate : null, resumedFrom, templates: templates.length });
  };
  try {
    try {
      await mkdir(building, { recursive: true });
    } catch (cause) {
      throw new SatcError(`cannot write the noun bank to ${building}: ${(cause as Error).message} (set SATC_CACHE to use another cache folder)`, { file: building, cause });
    }
    // One prompt fixes the width; the writer then says where an earlier run stopped.
    dim = (await tower.encodeTexts([prompt(templates[0], nouns.lemmas[0])])).cols;
    writer = await openRowWriter(path, [total, dim], writerKey);
    resumedFrom = start = writer.rowsDone;
    report();
    while (start < total && !options.signal?.aborted && doneThisRun < limit) {
      const end = Math.min(total, start + batchSize, start + (limit - doneThisRun));
      const rows = await embedNouns(tower, nouns.lemmas.slice(start, end), templates);
      if (rows.cols !== dim) throw new SatcError(`the text tower returned ${rows.cols} dimensions after ${dim}`);
      await writer.writeRows(start, rows.data);
      doneThisRun += end - start;
      start = end;
      report();
    }
    if (start < total) {
      await writer?.close();
      writer = null;
      return { ...info, dir: building, embeddings: null, done: start, total, resumedFrom, seconds: (performance.now() - started) / 1000 };
    }
    await writer.finish();
    writer = null;
    const array = await readNpy(path);
    const data = array.data as Float32Array;
    const entry = await store.put(key, { embeddings: { data, shape: [total, dim] }, synsets: { data: Int32Array.from(nouns.offsets), shape: [total] } });
    await rm(building, { recursive: true, force: true });
    return { ...info, dir: entry.dir, embeddings: { data, rows: total, cols: dim }, lemmas: nouns.lemmas, cached: false, resumedFrom, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (writer !== null) await writer.close().catch(() => undefined);
  }
}

/**
 * Embeddings of `lemmas` (B) averaged over `templates`: (B, dim), unit rows. One text-tower run
 * per call with B x templates prompts, template-major.
 */
export async function embedNouns(tower: TextTower, lemmas: readonly string[], templates: readonly string[]): Promise<Matrix> {
  const prompts = templates.flatMap((t) => lemmas.map((l) => prompt(t, l)));
  const raw = await tower.encodeTexts(prompts);
  const b = lemmas.length;
  const d = raw.cols;
  if (raw.rows !== prompts.length) throw new SatcError(`the text tower returned ${raw.rows} rows for ${prompts.length} prompts`);
  const out = new Float32Array(b * d);
  const acc = new Float64Array(d);
  for (let i = 0; i < b; i++) {
    acc.fill(0);
    for (let t = 0; t < templates.length; t++) {
      const o = (t * b + i) * d;
      for (let j = 0; j < d; j++) acc[j] += raw.data[o + j];
    }
    // The mean over templates, then unit norm (the 1/T factor cancels in the normalisation).
    let s = 0;
    for (let j = 0; j < d; j++) s += acc[j] * acc[j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = acc[j] * inv;
  }
  return { data: out, rows: b, cols: d };
}
