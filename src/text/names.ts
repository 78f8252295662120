/**
 * Names for the final clusters (run.json's clusters.names): for each cluster, the selected nouns
 * nearest (cosine) to the normalised mean text counterpart of its members. A lemma that appears
 * in several synsets counts once (its best synset).
 */
import { UsageError, expected } from "../errors.js";
import type { Matrix } from "../util/matrix.js";

export interface ClusterNames {
  /** Per cluster (k), its best lemmas, most similar first; [] for an empty cluster. */
  names: string[][];
  /** Cosine of each name with the cluster's mean text feature, same layout. */
  similarity: number[][];
}

/**
 * @param zText text counterparts (nSamples, dim)
 * @param labels final cluster of each sample (nSamples), values in [0, k)
 * @param nouns embeddings (nNouns, dim), unit or raw, and their lemmas (nNouns): usually the selected nouns
 * @param top names per cluster; default 3
 */
export function clusterNames(zText: Matrix, labels: Int32Array, k: number, nouns: { embeddings: Matrix; lemmas: readonly string[] }, top = 3): ClusterNames {
  const d = zText.cols;
  const m = nouns.embeddings.rows;
  if (labels.length !== zText.rows) throw new UsageError(`cluster names: ${labels.length} labels for ${zText.rows} text features`);
  if (nouns.embeddings.cols !== d) throw new UsageError(`cluster names: noun embeddings have ${nouns.embeddings.cols} dimensions, text features ${d}`);
  if (nouns.lemmas.length !== m) throw new UsageError(`cluster names: ${nouns.lemmas.length} lemmas for ${m} noun embeddings`);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(expected("an integer >= 1", "top", top));
  const means = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let i = 0; i < zText.rows; i++) {
    const c = labels[i];
    if (!(c >= 0 && c < k)) throw new UsageError(`cluster names: labels[${i}]=${c} is outside [0, ${k})`);
    counts[c]++;
    for (let j = 0; j < d; j++) means[c * d + j] += zText.data[i * d + j];
  }
  const nounNorm = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += nouns.embeddings.data[t * d + j] ** 2;
    nounNorm[t] = Math.sqrt(s) || 1;
  }
  const names: string[][] = [];
  const similarity: number[][] = [];
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      names.push([]);
      similarity.push([]);
      continue;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += means[c * d + j] ** 2;
    norm = Math.sqrt(norm) || 1;
    const best = new Map<string, number>();
    for (let t = 0; t < m; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += means[c * d + j] * nouns.embeddings.data[t * d + j];
      const cos = s / (norm * nounNorm[t]);
      const lemma = nouns.lemmas[t];
      if (!(cos <= (best.get(lemma) ?? -Infinity))) best.set(lemma, cos);
    }
    const ranked = [...best.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top);
    names.push(ranked.map((r) => r[0]));
    similarity.push(ranked.map((r) => r[1]));
  }
  return { names, similarity };
}
