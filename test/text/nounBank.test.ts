/**
 * The noun bank on the tiny CLIP of test/encoders/tinyModels.ts (offline, real file layout). Its
 * text tower sums the token embeddings of the unpadded tokens, so the expected bank row of a noun
 * is computed here in plain JS: normalise(sum over templates of sum over its prompt's tokens of E).
 * Tolerance 1e-5.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ClipEncoder } from "../../src/encoders/clip.js";
import { FeatureStore } from "../../src/features/store.js";
import { buildNounBank, nounTemplates, prompt, TAC_TEMPLATES, type NounBank, type NounBankProgress } from "../../src/text/nounBank.js";
import { loadWordNetNouns, nounListHash, type WordNetNouns } from "../../src/text/nouns.js";
import { writeTinyClip, type TinyClip } from "../encoders/tinyModels.js";

const ID = "Xenova/clip-vit-base-patch32";

async function fewNouns(n: number): Promise<WordNetNouns> {
  const all = await loadWordNetNouns();
  const lemmas = all.lemmas.slice(0, n);
  return { ...all, lemmas, offsets: all.offsets.slice(0, n), sha256: nounListHash(lemmas) };
}

function expectedBank(clip: ClipEncoder, tiny: TinyClip, lemmas: string[], templates: readonly string[]): Float64Array {
  const P = tiny.projection;
  const out = new Float64Array(lemmas.length * P);
  lemmas.forEach((lemma, i) => {
    const acc = new Float64Array(P);
    for (const t of templates) {
      const ids = clip.tokenize([prompt(t, lemma)]).inputIds[0];
      for (const id of ids) for (let j = 0; j < P; j++) acc[j] += tiny.textE[id * P + j];
    }
    const norm = Math.hypot(...acc);
    for (let j = 0; j < P; j++) out[i * P + j] = acc[j] / norm;
  });
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

test("TAC's 7 templates, in order; --templates takes the first N", () => {
  assert.equal(TAC_TEMPLATES.length, 7);
  assert.equal(prompt(TAC_TEMPLATES[4], "dog"), "a dog in a video game.");
  assert.deepEqual(nounTemplates(2), ["itap of a {}.", "a bad photo of the {}."]);
  assert.throws(() => nounTemplates(8), /expected an integer from 1 to 7 for --templates but received 8/);
});

test("noun bank: template mean of the text tower, unit rows; stored once, then read back", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-bank-"));
  try {
    const tiny = await writeTinyClip(join(root, "models", ID));
    const clip = await ClipEncoder.load({ modelDir: join(root, "models"), threads: 1, parts: ["text"] });
    const nouns = await fewNouns(23);
    const store = new FeatureStore(join(root, "store"));
    const events: NounBankProgress[] = [];
    const bank = (await buildNounBank(clip, { nouns, store, batchSize: 5, onProgress: (e) => events.push(e) })) as NounBank;
    assert.notEqual(bank.embeddings, null);
    assert.equal(bank.cached, false);
    assert.deepEqual([bank.embeddings.rows, bank.embeddings.cols], [23, tiny.projection]);
    assertClose(bank.embeddings.data, expectedBank(clip, tiny, nouns.lemmas, TAC_TEMPLATES), 1e-5);
    assert.deepEqual(bank.templates, [...TAC_TEMPLATES]);
    assert.equal(bank.model.file, "onnx/text_model.onnx");
    assert.equal(bank.lemmas, nouns.lemmas);
    assert.deepEqual(events.map((e) => e.done), [0, 5, 10, 15, 20, 23]);
    assert.ok(events.at(-1)!.promptsPerSecond > 0 && events.at(-1)!.etaSeconds === 0);
    // No building folder left behind; the store holds the bank and the synset offsets.
    assert.deepEqual((await readdir(join(root, "store"))).filter((f) => f.endsWith(".building")), []);
    const again = (await buildNounBank(clip, { nouns, store })) as NounBank;
    assert.equal(again.cached, true);
    assert.deepEqual(again.embeddings.data, bank.embeddings.data);
    // Fewer templates: another entry, recorded.
    const two = (await buildNounBank(clip, { nouns, store, templates: 2 })) as NounBank;
    assert.equal(two.cached, false);
    assert.deepEqual(two.templates, TAC_TEMPLATES.slice(0, 2));
    assert.notEqual(two.dir, bank.dir);
    assertClose(two.embeddings.data, expectedBank(clip, tiny, nouns.lemmas, TAC_TEMPLATES.slice(0, 2)), 1e-5);
    await clip.dispose();
  } finally {
    await rm(root, { recursive: true });
  }
});

test("noun bank: an interrupted build resumes from the rows on disk and ends equal to an uninterrupted one", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-bank-"));
  try {
    await writeTinyClip(join(root, "models", ID));
    const clip = await ClipEncoder.load({ modelDir: join(root, "models"), threads: 1, parts: ["text"] });
    const nouns = await fewNouns(17);
    const store = new FeatureStore(join(root, "store"));
    const partial = await buildNounBank(clip, { nouns, store, batchSize: 3, maxNouns: 7 });
    assert.equal(partial.embeddings, null);
    assert.ok("done" in partial && partial.done === 7 && partial.total === 17);
    assert.ok((await stat(join(partial.dir, "embeddings.npy.partial"))).size > 0);
    // Abort after the first batch of the next run.
    const controller = new AbortController();
    const second = await buildNounBank(clip, { nouns, store, batchSize: 3, signal: controller.signal, onProgress: (e) => e.done > 7 && controller.abort() });
    assert.ok("done" in second && second.done === 10 && second.resumedFrom === 7);
    const events: NounBankProgress[] = [];
    const done = (await buildNounBank(clip, { nouns, store, batchSize: 3, onProgress: (e) => events.push(e) })) as NounBank;
    assert.equal(done.resumedFrom, 10);
    assert.equal(events[0].done, 10);
    const fresh = (await buildNounBank(clip, { nouns, store: new FeatureStore(join(root, "store2")), batchSize: 4 })) as NounBank;
    assert.deepEqual(done.embeddings.data, fresh.embeddings.data);
    assert.equal(done.dir, fresh.dir.replace("store2", "store"));
    await clip.dispose();
  } finally {
    await rm(root, { recursive: true });
  }
});
