import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { SatcError } from "../../src/errors.js";
import { loadWordNetNouns, nounListHash, parseNounData } from "../../src/text/nouns.js";

// test/fixtures/text/nouns_reference.json comes from awk over the same file, not from satc:
//   sh test/reference/nouns_reference.sh > test/fixtures/text/nouns_reference.json
interface Reference {
  count: number;
  sha256: string;
  entries: { index: number; offset: number; lemma: string }[];
  dogIndices: number[];
}
const reference = JSON.parse(await readFile(new URL("../../../test/fixtures/text/nouns_reference.json", import.meta.url), "utf8")) as Reference;

test("WordNet 3.1 nouns: one lemma per noun synset, the list awk extracts", async () => {
  const nouns = await loadWordNetNouns();
  assert.equal(nouns.lemmas.length, reference.count);
  assert.equal(nouns.lemmas.length, 82192);
  assert.equal(nouns.offsets.length, nouns.lemmas.length);
  assert.equal(nouns.version, "3.1.14");
  for (const e of reference.entries) {
    assert.equal(nouns.lemmas[e.index], e.lemma, `lemma ${e.index}`);
    assert.equal(nouns.offsets[e.index], e.offset, `offset ${e.index}`);
  }
  assert.equal(nouns.sha256, reference.sha256);
  assert.equal(nounListHash(nouns.lemmas), reference.sha256);
  // The same lemma in two synsets stays twice, as in TAC's one-row-per-synset list.
  assert.deepEqual(nouns.lemmas.flatMap((l, i) => (l === "dog" ? [i] : [])), reference.dogIndices);
  assert.ok(nouns.lemmas.every((l) => l.length > 0 && !l.includes("_")));
});

test("parseNounData skips license lines, keeps case, and names a bad line", () => {
  const text = [
    "  1 This software and database is being provided to you",
    "  2 ",
    "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived",
    "09317191 17 n 01 Greenland_Sea 0 002 @i 09426788 n 0000 | an arm of the Arctic Ocean",
    "",
  ].join("\n");
  const parsed = parseNounData(text);
  assert.deepEqual(parsed.lemmas, ["entity", "Greenland Sea"]);
  assert.deepEqual([...parsed.offsets], [1740, 9317191]);
  assert.throws(() => parseNounData(text + "garbage line\n", "x/data.noun"), (e: unknown) => e instanceof SatcError && /x\/data\.noun: line 5/.test(e.message));
  assert.throws(() => parseNounData("  1 only a license\n"), /no noun synsets/);
});
