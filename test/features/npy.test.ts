/**
 * The .npy reader and writer against numpy.
 * Fixtures: test/fixtures/npy/*.npy and expected.json, produced by
 *   /usr/bin/python3 test/reference/npy_fixtures.py   (numpy 1.24.2)
 * Values are compared exactly: float32 values are widened to float64 by both numpy (.tolist()) and us.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy, npyHeader, parseNpy, readNpy, writeNpy } from "../../src/features/npy.js";
import { SatcError } from "../../src/errors.js";

const FIXTURES = join(process.cwd(), "test", "fixtures", "npy");

interface Expected {
  numpy: string;
  files: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
  saved: string[];
  errors: Record<string, string>;
}

const expected: Expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8"));

const DTYPE_OF_DESCR: Record<string, string> = {
  "<f4": "float32", ">f4": "float32", "<f8": "float64", ">f8": "float64",
  "<i4": "int32", ">i4": "int32", "<i8": "int64", ">i8": "int64", "|u1": "uint8",
};

function asNumber(v: number | string): number {
  if (typeof v === "number") return v;
  return v === "nan" ? NaN : v === "inf" ? Infinity : -Infinity;
}

test("reads every numpy variant with the values numpy reads", async () => {
  const names = Object.keys(expected.files);
  assert.ok(names.length >= 15, "fixture list looks incomplete");
  for (const name of names) {
    const want = expected.files[name];
    const got = await readNpy(join(FIXTURES, name));
    assert.deepEqual(got.shape, want.shape, name);
    assert.equal(got.dtype, DTYPE_OF_DESCR[want.dtype], name);
    const values = Array.from(got.data as ArrayLike<number | bigint>, Number);
    assert.equal(values.length, want.values.length, name);
    for (let i = 0; i < values.length; i++) {
      assert.ok(Object.is(values[i], asNumber(want.values[i])), `${name}[${i}]: ${values[i]} vs numpy ${want.values[i]}`);
    }
  }
});

test("big-endian and little-endian files give identical arrays", async () => {
  const le = await readNpy(join(FIXTURES, "f8-le-v1.npy"));
  const be = await readNpy(join(FIXTURES, "f8-be-v2.npy"));
  assert.ok(le.data instanceof Float64Array);
  assert.deepEqual(Array.from(be.data as Float64Array), Array.from(le.data as Float64Array));
  const i8 = await readNpy(join(FIXTURES, "i8-be.npy"));
  assert.ok(i8.data instanceof BigInt64Array);
});

test("rejects Fortran order and unsupported dtypes, naming the file", async () => {
  for (const [name, what] of Object.entries(expected.errors)) {
    const path = join(FIXTURES, name);
    await assert.rejects(readNpy(path), (err: unknown) => {
      assert.ok(err instanceof SatcError);
      assert.ok(err.message.includes(path), err.message);
      assert.ok(err.message.toLowerCase().includes(what === "fortran_order" ? "fortran" : "dtype"), err.message);
      return true;
    });
  }
});

test("rejects a non-npy file, a truncated file and a missing file", async () => {
  assert.throws(() => parseNpy(new TextEncoder().encode("hello world, not numpy"), "x.npy"), /x\.npy: not a \.npy file/);
  const good = await readFile(join(FIXTURES, "f4-le-v1.npy"));
  assert.throws(() => parseNpy(good.subarray(0, good.length - 3), "cut.npy"), /cut\.npy: truncated \.npy data/);
  assert.throws(() => parseNpy(good.subarray(0, 40), "cut.npy"), /cut\.npy: truncated \.npy header/);
  await assert.rejects(readNpy("/nonexistent/satc/a.npy"), /cannot read \/nonexistent\/satc\/a\.npy/);
});

test("writeNpy produces exactly the bytes np.save writes", async () => {
  for (const name of expected.saved) {
    const numpyBytes = new Uint8Array(await readFile(join(FIXTURES, name)));
    const parsed = parseNpy(numpyBytes, name);
    const ours = encodeNpy(parsed.data as Float32Array | Int32Array, parsed.shape);
    assert.deepEqual(ours, numpyBytes, name);
  }
});

test("header length is a multiple of 64 for many shapes, and round trips", async () => {
  for (const shape of [[0], [1], [7], [3, 5], [123456789, 1], [2, 3, 4, 5, 6]]) {
    const h = npyHeader("float32", shape);
    assert.equal(h.length % 64, 0, `shape ${shape}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > 1000) continue;
    const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    const back = parseNpy(encodeNpy(data, shape), "mem");
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(Array.from(back.data as Float32Array), Array.from(data));
  }
  assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), /holds 6 values but data has 5/);
});

test("writeNpy writes a file readNpy reads back, leaving no temporary files", async () => {
  const dir = await mkdtemp(join(tmpdir(), "satc-npy-"));
  try {
    const path = join(dir, "x.npy");
    const data = new Float32Array([1.5, -2, Math.PI, 0, 1e-7, 3e30]);
    await writeNpy(path, data, [3, 2]);
    await writeNpy(join(dir, "y.npy"), new Int32Array([4, -1, 7]), [3]);
    const back = await readNpy(path);
    assert.deepEqual(back.shape, [3, 2]);
    assert.deepEqual(Array.from(back.data as Float32Array), Array.from(data));
    const ints = await readNpy(join(dir, "y.npy"));
    assert.equal(ints.dtype, "int32");
    assert.deepEqual(Array.from(ints.data as Int32Array), [4, -1, 7]);
    const { readdir } = await import("node:fs/promises");
    assert.deepEqual((await readdir(dir)).sort(), ["x.npy", "y.npy"]);
    await writeFile(join(dir, "z.npy"), "");
    await assert.rejects(readNpy(join(dir, "z.npy")), /not a \.npy file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
