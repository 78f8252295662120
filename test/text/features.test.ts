/**
 * --features folders. test/fixtures/text/tac/ is a toy folder in TAC's data/ layout written by
 * `/usr/bin/python3 test/reference/text_features_fixture.py` (float16 images, float64 nouns,
 * np.savetxt labels, int64 cached preds, float16 retrieved text, a CSV noun list); expected.json
 * holds numpy's own float values. float16 -> float32 is exact, float64 -> float32 is compared at
 * float32 rounding (exact after Math.fround).
 */
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { SatcError, UsageError } from "../../src/errors.js";
import { encodeNpy } from "../../src/features/npy.js";
import { csvFirstColumn, halfToFloat, loadTextFeatures } from "../../src/text/features.js";

const tacDir = fileURLToPath(new URL("../../../test/fixtures/text/tac/", import.meta.url));
const expected = JSON.parse(await readFile(join(tacDir, "expected.json"), "utf8")) as {
  images: number[]; nouns: number[]; labels: number[]; preds: number[]; retrieved: number[]; lemmas: string[];
};

test("TAC's data folder: float16 images and counterpart, float64 nouns, text labels, cached clusters, CSV lemmas", async () => {
  const f = await loadTextFeatures(tacDir);
  assert.equal(f.layout, "tac");
  assert.equal(f.dataset, "TOY");
  assert.deepEqual([f.images.rows, f.images.cols], [6, 4]);
  assert.deepEqual([...f.images.data], expected.images);
  assert.equal(f.images.data[0], 65504);
  assert.deepEqual([...f.nouns.data], expected.nouns.map(Math.fround));
  assert.deepEqual([...f.labels!], expected.labels);
  assert.deepEqual(f.imageClusters && { k: f.imageClusters.k, labels: [...f.imageClusters.labels] }, { k: 2, labels: expected.preds });
  assert.deepEqual([...f.counterpart!.data], expected.retrieved);
  assert.deepEqual(f.lemmas, expected.lemmas);
  assert.equal(f.files.images, join(tacDir, "TOY_image_embedding_train.npy"));
});

test("halfToFloat: normal, subnormal, signed zero, infinity", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.deepEqual(csvFirstColumn('word,definition\n"a ""b"", c",x\nplain,y\n'), ['a "b", c', "plain"]);
});

test("satc's layout; several TAC datasets need a choice; mismatches name the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "satc-textfeat-"));
  try {
    await writeFile(join(dir, "images.npy"), encodeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]));
    await assert.rejects(loadTextFeatures(dir), /images\.npy needs nouns\.npy/);
    await writeFile(join(dir, "nouns.npy"), encodeNpy(Float32Array.of(1, 0, 0, 1), [2, 2]));
    await writeFile(join(dir, "nouns.txt"), "cat\ndog\n");
    await writeFile(join(dir, "labels.npy"), encodeNpy(Int32Array.of(0, 1, 1), [3]));
    const f = await loadTextFeatures(dir);
    assert.equal(f.layout, "satc");
    assert.deepEqual(f.lemmas, ["cat", "dog"]);
    assert.deepEqual([...f.labels!], [0, 1, 1]);
    assert.equal(f.counterpart, null);
    await writeFile(join(dir, "nouns.txt"), "cat\n");
    await assert.rejects(loadTextFeatures(dir), (e: unknown) => e instanceof SatcError && /nouns\.txt: 1 lemmas, expected 2/.test(e.message));
    await writeFile(join(dir, "nouns.npy"), encodeNpy(Float32Array.of(1, 0, 0), [1, 3]));
    await assert.rejects(loadTextFeatures(dir), /3 dimensions but the image embeddings 2/);
  } finally {
    await rm(dir, { recursive: true });
  }
  const two = await mkdtemp(join(tmpdir(), "satc-textfeat-"));
  try {
    for (const f of ["TOY_image_embedding_train.npy", "nouns_embedding_ensemble.npy"]) await copyFile(join(tacDir, f), join(two, f));
    await copyFile(join(tacDir, "TOY_image_embedding_train.npy"), join(two, "CIFAR-10_image_embedding_train.npy"));
    await assert.rejects(loadTextFeatures(two), (e: unknown) => e instanceof UsageError && /'CIFAR-10', 'TOY'; say which/.test(e.message));
    const f = await loadTextFeatures(two, { dataset: "CIFAR-10" });
    assert.equal(f.dataset, "CIFAR-10");
    assert.equal(f.lemmas, null);
    assert.equal(f.imageClusters, null);
    await assert.rejects(loadTextFeatures(join(two, "nope")), /cannot read the features folder/);
  } finally {
    await rm(two, { recursive: true });
  }
});
