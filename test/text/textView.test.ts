import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { readNpy } from "../../src/features/npy.js";
import { prepareTextView } from "../../src/text/index.js";
import type { Matrix } from "../../src/util/matrix.js";

// The synthetic fixture of test/reference/text_reference.py: its tau (scikit-learn) is 0.115 < 0.33.
const dir = new URL("../../../test/fixtures/text/", import.meta.url);
const ref = JSON.parse(await readFile(new URL("synthetic.json", dir), "utf8")) as { tau: number; selected: number[]; imageLabels: number[] };
async function load(name: string): Promise<Matrix> {
  const a = await readNpy(new URL(name, dir).pathname);
  return { data: a.data as Float32Array, rows: a.shape[0], cols: a.shape[1] };
}
const images = await load("synthetic_images.npy");
const nouns = await load("synthetic_nouns.npy");

test("prepareTextView: auto leaves the text out at low tau, on brings it in as the 'textual' view, names come from the selected nouns", async () => {
  const lemmas = Array.from({ length: nouns.rows }, (_, i) => `noun${i}`);
  const auto = await prepareTextView(images, nouns, lemmas, { threads: 1 });
  assert.ok(Math.abs(auto.decision.tau - ref.tau) < 1e-5);
  assert.equal(auto.decision.used, false);
  assert.equal(auto.view, null);
  const on = await prepareTextView(images, nouns, lemmas, { threads: 1, mode: "on" });
  assert.equal(on.view?.name, "textual");
  assert.equal(on.view?.features, on.embeddings);
  const names = on.names(Int32Array.from(ref.imageLabels), 10, 2)!;
  assert.equal(names.names.length, 10);
  const selected = new Set(ref.selected.map((s) => `noun${s}`));
  for (const list of names.names) {
    assert.equal(list.length, 2);
    for (const l of list) assert.ok(selected.has(l), l);
  }
  // A finished counterpart (TAC's retrieved file) skips selection and retrieval.
  const given = await prepareTextView(images, nouns, null, { threads: 1, counterpart: on.embeddings });
  assert.equal(given.counterpart, null);
  assert.equal(given.decision.tau, on.decision.tau);
  assert.equal(given.names(Int32Array.from(ref.imageLabels), 10), null);
});
