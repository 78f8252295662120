/**
 * The text view (DESIGN 1.1, 1.2) in one call for the pipeline: the counterpart of every image,
 * tau and the decision, and the trainer's "textual" view when the decision says so.
 *
 *   nouns (nouns.ts) -> noun bank (nounBank.ts, cached per text model)
 *   images + bank -> counterpart (counterpart.ts) -> tau, decision (selector.ts)
 *   final clusters -> names (names.ts)
 */
import type { View } from "../training/trainer.js";
import { takeRows, type Matrix } from "../util/matrix.js";
import { buildTextCounterpart, type CounterpartOptions, type TextCounterpart } from "./counterpart.js";
import { clusterNames, type ClusterNames } from "./names.js";
import { textCompactness, type TextDecision, type TextMode } from "./selector.js";

export * from "./counterpart.js";
export * from "./features.js";
export * from "./names.js";
export * from "./nounBank.js";
export * from "./nouns.js";
export * from "./selector.js";

export interface TextViewOptions extends CounterpartOptions {
  /** "auto" (default): use text iff tau > threshold; "on"/"off" force it. */
  mode?: TextMode;
  /** Default 0.33. */
  threshold?: number;
  /** A finished counterpart (nImages, dim), e.g. TAC's retrieved file: skips the selection and retrieval. */
  counterpart?: Matrix;
}

export interface TextView {
  /** Selection and counterpart; null when a finished counterpart was given. */
  counterpart: TextCounterpart | null;
  /** z_textual (nImages, dim). */
  embeddings: Matrix;
  decision: TextDecision;
  /** The trainer's view, named "textual"; null when the decision is not to use text. */
  view: View | null;
  /** Names of final clusters (top `top` selected nouns each); needs the lemmas of the bank. */
  names(labels: Int32Array, k: number, top?: number): ClusterNames | null;
}

/**
 * The text view of `images` (nImages, dim) from the noun bank `nouns` (nNouns, dim) and its
 * lemmas (nNouns, or null when unknown: no names).
 */
export async function prepareTextView(images: Matrix, nouns: Matrix, lemmas: readonly string[] | null, options: TextViewOptions = {}): Promise<TextView> {
  const counterpart = options.counterpart === undefined ? await buildTextCounterpart(images, nouns, options) : null;
  const embeddings = counterpart?.embeddings ?? options.counterpart!;
  const decision = await textCompactness(embeddings, { mode: options.mode, threshold: options.threshold, seed: options.seed, threads: options.threads });
  return {
    counterpart,
    embeddings,
    decision,
    view: decision.used ? { name: "textual", features: embeddings } : null,
    names(labels, k, top = 3) {
      if (lemmas === null) return null;
      const selected = counterpart?.selected;
      const bank = selected ? { embeddings: takeRows(nouns, selected), lemmas: Array.from(selected, (s) => lemmas[s]) } : { embeddings: nouns, lemmas };
      return clusterNames(embeddings, labels, k, bank, top);
    },
  };
}
