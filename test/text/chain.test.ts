/**
 * The whole text view offline on the tiny CLIP of test/encoders/tinyModels.ts: WordNet nouns ->
 * noun bank (text tower) -> image embeddings (vision tower) -> counterpart -> tau -> cluster names.
 * The first 600 WordNet nouns keep the test to about a second (all 82,192 take ~45 s with the tiny
 * tower's byte-level vocabulary); the code path is the same. The counterpart is recomputed here
 * in float64 from the bank and the image clusters (selection and retrieval, as TAC's scripts);
 * tolerance 1e-4.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ClipEncoder } from "../../src/encoders/clip.js";
import { FeatureStore } from "../../src/features/store.js";
import type { RawImage } from "../../src/input/dataset.js";
import { buildTextCounterpart } from "../../src/text/counterpart.js";
import { clusterNames } from "../../src/text/names.js";
import { buildNounBank, type NounBank } from "../../src/text/nounBank.js";
import { loadWordNetNouns, nounListHash } from "../../src/text/nouns.js";
import { textCompactness } from "../../src/text/selector.js";
import { normalizeRows, takeRows, type Matrix } from "../../src/util/matrix.js";
import { Random } from "../../src/util/random.js";
import { writeTinyClip } from "../encoders/tinyModels.js";

/** 700 small images in 3 colour families (mostly red, green or blue), so K1 = ceil(700/300) = 3. */
function images(): { list: RawImage[]; family: number[] } {
  const rng = new Random(5);
  const list: RawImage[] = [];
  const family: number[] = [];
  for (let i = 0; i < 700; i++) {
    const f = i % 3;
    const data = new Uint8Array(8 * 8 * 3);
    for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = c === f ? 200 + rng.int(55) : rng.int(60);
    list.push({ data, width: 8, height: 8, channels: 3 });
    family.push(f);
  }
  return { list, family };
}

function unitRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => {
    const r = Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
    const n = Math.hypot(...r);
    return r.map((v) => v / n);
  });
}
const dot = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j], 0);

test("text view end to end on the tiny CLIP: nouns -> bank -> counterpart -> tau -> names", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-chain-"));
  try {
    await writeTinyClip(join(root, "models", "Xenova/clip-vit-base-patch32"), { cropSize: 8 });
    const clip = await ClipEncoder.load({ modelDir: join(root, "models"), threads: 1 });
    const all = await loadWordNetNouns();
    const lemmas = all.lemmas.slice(0, 600);
    const nouns = { ...all, lemmas, offsets: all.offsets.slice(0, 600), sha256: nounListHash(lemmas) };
    const bank = (await buildNounBank(clip, { nouns, store: new FeatureStore(join(root, "store")), batchSize: 100 })) as NounBank;
    assert.deepEqual([bank.embeddings.rows, bank.embeddings.cols], [600, 8]);

    const { list, family } = images();
    const x = normalizeRows(await clip.encodeImages(list));
    const c = await buildTextCounterpart(x, bank.embeddings, { threads: 1, seed: 1 });
    assert.equal(c.centers, 3);
    // The image clusters are the colour families.
    const byFamily = new Map<number, number>();
    family.forEach((f, i) => {
      if (!byFamily.has(f)) byFamily.set(f, c.imageLabels[i]);
      assert.equal(c.imageLabels[i], byFamily.get(f));
    });
    assert.equal(new Set(byFamily.values()).size, 3);
    assert.ok(c.selected.length >= 3 && c.selected.length <= 15);

    // Float64 recomputation: centres, softmax over centres, top 5 per centre, retrieval at T = 0.005.
    const X = unitRows(x);
    const T = unitRows(bank.embeddings);
    const centres = [0, 1, 2].map((k) => {
      const m = new Array(8).fill(0);
      X.forEach((r, i) => c.imageLabels[i] === k && r.forEach((v, j) => (m[j] += v)));
      const n = Math.hypot(...m);
      return m.map((v) => v / n);
    });
    const best: { i: number; p: number }[][] = [[], [], []];
    T.forEach((t, i) => {
      const s = centres.map((ce) => dot(ce, t));
      const mx = Math.max(...s);
      const e = s.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, b) => a + b, 0);
      const k = s.indexOf(mx);
      best[k].push({ i, p: e[k] / sum });
    });
    const selected = best.flatMap((l) => l.sort((a, b) => b.p - a.p || a.i - b.i).slice(0, 5).map((e) => e.i)).sort((a, b) => a - b);
    assert.deepEqual([...c.selected], selected);
    let maxDiff = 0;
    X.forEach((r, i) => {
      const logits = selected.map((s) => dot(r, T[s]) / 0.005);
      const mx = Math.max(...logits);
      const w = logits.map((l) => Math.exp(l - mx));
      const z = new Array(8).fill(0);
      w.forEach((wi, s) => T[selected[s]].forEach((v, j) => (z[j] += wi * v)));
      const n = Math.hypot(...z);
      z.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v / n - c.embeddings.data[i * 8 + j]))));
    });
    assert.ok(maxDiff < 1e-4, `z_textual differs by ${maxDiff}`);

    const decision = await textCompactness(c.embeddings, { threads: 1 });
    assert.ok(Number.isFinite(decision.tau) && decision.tau >= 0 && decision.tau <= 4);
    assert.equal(decision.used, decision.tau > 0.33);

    const selectedLemmas = Array.from(c.selected, (s) => bank.lemmas[s]);
    const names = clusterNames(c.embeddings, c.imageLabels, 3, { embeddings: takeRows(bank.embeddings, c.selected), lemmas: selectedLemmas }, 3);
    assert.equal(names.names.length, 3);
    for (const list of names.names) {
      assert.ok(list.length >= 1 && list.length <= 3);
      for (const lemma of list) assert.ok(selectedLemmas.includes(lemma));
    }
    await clip.dispose();
  } finally {
    await rm(root, { recursive: true });
  }
});
