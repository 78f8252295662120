/**
 * .npy feature matrices as datasets, and label files.
 * Fixtures in test/fixtures/npy come from /usr/bin/python3 test/reference/npy_fixtures.py (numpy 1.24.2).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SatcError } from "../../src/errors.js";
import { writeNpy } from "../../src/features/npy.js";
import { readLabelsFile } from "../../src/input/labels.js";
import { openNpyFeatures } from "../../src/input/npy.js";

const FIXTURES = join(process.cwd(), "test", "fixtures", "npy");
const expectedValues = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")).files;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "satc-input-npy-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rejectsNaming(file: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SatcError, String(err));
    assert.ok(err.message.includes(file), `message does not name ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };
}

test("a float64 big-endian matrix becomes float32 features with row ids", async () => {
  const path = join(FIXTURES, "f8-be-v1.npy");
  const ds = await openNpyFeatures(path);
  assert.equal(ds.kind, "features");
  assert.equal(ds.features.rows, 3);
  assert.equal(ds.features.cols, 4);
  assert.ok(ds.features.data instanceof Float32Array);
  const want = expectedValues["f8-be-v1.npy"].values as number[];
  assert.deepEqual(Array.from(ds.features.data), want.map((v) => Math.fround(v)));
  assert.deepEqual(ds.ids, ["0", "1", "2"]);
  assert.equal(ds.labels, null);
  assert.match(ds.fingerprint, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await openNpyFeatures(path)).fingerprint, ds.fingerprint);
  assert.notEqual((await openNpyFeatures(join(FIXTURES, "f8-le-v1.npy"))).fingerprint, ds.fingerprint);
});

test("non-finite values are reported with their count and first position", async () => {
  // f8-nonfinite.npy = [[1, nan], [inf, -inf]]
  const path = join(FIXTURES, "f8-nonfinite.npy");
  await assert.rejects(openNpyFeatures(path), rejectsNaming(path, /3 non-finite values \(1 NaN, 2 infinite\) in 2 of 2 rows; the first is NaN at row 0, column 1/));
  await withDir(async (dir) => {
    const p = join(dir, "one-inf.npy");
    const data = new Float32Array(12);
    data[2 * 4 + 3] = Infinity;
    await writeNpy(p, data, [3, 4]);
    await assert.rejects(openNpyFeatures(p), rejectsNaming(p, /1 non-finite value \(0 NaN, 1 infinite\) in 1 of 3 rows; the first is Infinity at row 2, column 3/));
  });
});

test("wrong dtype, wrong rank and an empty matrix are errors naming the file", async () => {
  const ints = join(FIXTURES, "i4-le.npy");
  await assert.rejects(openNpyFeatures(ints), rejectsNaming(ints, /must be float32 or float64 but the file holds int32/));
  const cube = join(FIXTURES, "f4-3d.npy");
  await assert.rejects(openNpyFeatures(cube), rejectsNaming(cube, /must be a 2-D array \(nSamples, nFeatures\) but its shape is \(2, 3, 4\)/));
  const vector = join(FIXTURES, "f4-1d.npy");
  await assert.rejects(openNpyFeatures(vector), rejectsNaming(vector, /shape is \(4\)/));
  const empty = join(FIXTURES, "f4-empty.npy");
  await assert.rejects(openNpyFeatures(empty), rejectsNaming(empty, /empty, shape \(0, 5\)/));
  const fortran = join(FIXTURES, "error-fortran.npy");
  await assert.rejects(openNpyFeatures(fortran), rejectsNaming(fortran, /Fortran/));
  await assert.rejects(openNpyFeatures("/nonexistent/f.npy"), rejectsNaming("/nonexistent/f.npy", /cannot read feature file/));
});

test("labels from int .npy (int64, uint8), from integer-valued floats, and length mismatch", async () => {
  const features = join(FIXTURES, "f4-le-v1.npy"); // 3 rows
  await withDir(async (dir) => {
    const labelsF = join(dir, "labels.npy");
    await writeNpy(labelsF, new Float32Array([2, 0, 2]), [3]);
    const ds = await openNpyFeatures(features, { labels: labelsF });
    assert.deepEqual(Array.from(ds.labels!), [2, 0, 2]);
    assert.equal(ds.classNames, null);
    assert.notEqual(ds.fingerprint, (await openNpyFeatures(features)).fingerprint);

    await writeNpy(labelsF, new Float32Array([2, 0.5, 2]), [3]);
    await assert.rejects(openNpyFeatures(features, { labels: labelsF }), rejectsNaming(labelsF, /label 1 is 0\.5; labels must be non-negative integers/));
  });
  // i8-be.npy and u1.npy hold [3, 0, 2, 2, 1, 9] (6 labels)
  for (const name of ["i8-be.npy", "u1.npy", "i4-be.npy"]) {
    const set = await readLabelsFile(join(FIXTURES, name));
    assert.deepEqual(Array.from(set.labels), expectedValues[name].values, name);
  }
  const six = join(FIXTURES, "i8-le.npy");
  await assert.rejects(openNpyFeatures(features, { labels: six }), rejectsNaming(six, /has 6 labels but .*f4-le-v1\.npy has 3 items/));
});

test("text labels: integers, or class names sorted into classNames", async () => {
  const features = join(FIXTURES, "f4-le-v1.npy"); // 3 rows
  await withDir(async (dir) => {
    const txt = join(dir, "labels.txt");
    await writeFile(txt, "7\n3\n7\n\n");
    let ds = await openNpyFeatures(features, { labels: txt });
    assert.deepEqual(Array.from(ds.labels!), [7, 3, 7]);
    assert.equal(ds.classNames, null);

    await writeFile(txt, "zebra\r\nant\r\nzebra\r\n");
    ds = await openNpyFeatures(features, { labels: txt });
    assert.deepEqual(ds.classNames, ["ant", "zebra"]);
    assert.deepEqual(Array.from(ds.labels!), [1, 0, 1]);

    await writeFile(txt, "a\n\nb\n");
    await assert.rejects(openNpyFeatures(features, { labels: txt }), rejectsNaming(txt, /line 2 is empty/));
    await writeFile(txt, "a\nb\n");
    await assert.rejects(openNpyFeatures(features, { labels: txt }), rejectsNaming(txt, /has 2 labels but .* has 3 items/));
  });
});
