/** The feature store: round trip, keys, atomicity, incomplete entries. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { SatcError } from "../../src/errors.js";
import { readNpy } from "../../src/features/npy.js";
import { FeatureStore, canonicalJson, defaultFeatureStoreDir, featureKeyHash, satcCacheDir, type FeatureKey } from "../../src/features/store.js";

async function withStore(fn: (store: FeatureStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "satc-store-"));
  try {
    await fn(new FeatureStore(join(root, "features")), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const key = (options: unknown, fingerprint = "sha256:abc"): FeatureKey => ({
  input: { source: "fashion-mnist:test", fingerprint, n: 3 },
  encoder: { name: "pixels", options },
});

const GLOBAL = { data: Float32Array.from({ length: 6 }, (_, i) => i / 4 - 0.5), shape: [3, 2] };
const PATCHES = { data: Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => Math.sin(i)), shape: [3, 4, 2] };

test("default folders follow SATC_CACHE, then XDG_CACHE_HOME, then ~/.cache", () => {
  assert.equal(defaultFeatureStoreDir({ SATC_CACHE: "/c/satc" }), join("/c/satc", "features"));
  assert.equal(satcCacheDir({ XDG_CACHE_HOME: "/x" }), join("/x", "satc"));
  assert.equal(defaultFeatureStoreDir({}), join(homedir(), ".cache", "satc", "features"));
});

test("canonicalJson sorts keys at every level and rejects what JSON cannot hold", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } }), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ a: 1, skip: undefined }), '{"a":1}');
  assert.throws(() => canonicalJson({ a: NaN }), /value\.a is NaN/);
  assert.throws(() => canonicalJson({ a: new Float32Array(2) }), /Float32Array/);
  assert.equal(featureKeyHash(key({ size: 28, grid: 7 })), featureKeyHash(key({ grid: 7, size: 28 })));
});

test("put then get returns the same arrays, manifest and .npy files numpy can read", async () => {
  await withStore(async (store) => {
    const k = key({ size: 28, color: "gray", grid: 7 });
    assert.equal(await store.get(k), null);
    const written = await store.put(k, { global: GLOBAL, patches: PATCHES, order: { data: new Int32Array([2, 0, 1]), shape: [3] } });
    const got = await store.get(k);
    assert.ok(got !== null);
    assert.equal(got.dir, written.dir);
    assert.deepEqual(got.arrays.global.shape, [3, 2]);
    assert.deepEqual(Array.from(got.arrays.global.data), Array.from(GLOBAL.data));
    assert.deepEqual(got.arrays.patches.shape, [3, 4, 2]);
    assert.deepEqual(Array.from(got.arrays.patches.data), Array.from(PATCHES.data));
    assert.ok(got.arrays.order.data instanceof Int32Array);
    const m = got.manifest;
    assert.equal(m.key, featureKeyHash(k));
    assert.deepEqual(m.input, { source: "fashion-mnist:test", fingerprint: "sha256:abc", n: 3 });
    assert.deepEqual(m.encoder, { name: "pixels", options: { color: "gray", grid: 7, size: 28 } });
    assert.deepEqual(m.arrays.patches, { shape: [3, 4, 2], dtype: "float32", file: "patches.npy" });
    assert.ok(Math.abs(Date.parse(m.createdAt) - Date.now()) < 60_000);
    assert.match(m.satcVersion, /^\d+\.\d+\.\d+/);
    const onDisk = JSON.parse(await readFile(join(got.dir, "manifest.json"), "utf8"));
    assert.deepEqual(onDisk, m);
    assert.deepEqual((await readNpy(join(got.dir, "global.npy"))).shape, [3, 2]);
    assert.deepEqual((await readdir(got.dir)).sort(), ["global.npy", "manifest.json", "order.npy", "patches.npy"]);

    const only = await store.get(k, ["global"]);
    assert.deepEqual(Object.keys(only!.arrays), ["global"]);
    assert.equal(await store.get(k, ["missing"]), null);
  });
});

test("different options, encoder or input -> different entry; a new store over the same folder finds it", async () => {
  await withStore(async (store) => {
    await store.put(key({ size: 28 }), { global: GLOBAL });
    assert.equal(await store.get(key({ size: 32 })), null);
    assert.equal(await store.get(key({ size: 28 }, "sha256:other")), null);
    assert.equal(await store.get({ ...key({ size: 28 }), encoder: { name: "clip", options: { size: 28 } } }), null);
    // The source is recorded but not part of the key: the same files under another name share features.
    const moved = { ...key({ size: 28 }), input: { source: "/elsewhere", fingerprint: "sha256:abc", n: 3 } };
    assert.ok(await new FeatureStore(store.root).get(moved));
    await store.put(key({ size: 32 }), { global: { data: new Float32Array(6).fill(7), shape: [3, 2] } });
    assert.equal((await store.get(key({ size: 28 })))!.arrays.global.data[0], GLOBAL.data[0]);
    assert.equal((await store.get(key({ size: 32 })))!.arrays.global.data[0], 7);
    assert.equal((await readdir(store.root)).length, 2);
  });
});

test("half-written or damaged entries are not found", async () => {
  await withStore(async (store) => {
    const k = key({ size: 28 });
    const { dir } = await store.put(k, { global: GLOBAL, patches: PATCHES });
    // Arrays present, manifest not yet written (a crash before the last step).
    await unlink(join(dir, "manifest.json"));
    assert.equal(await store.get(k), null);
    // A truncated array file under a complete manifest.
    await store.put(k, { global: GLOBAL, patches: PATCHES });
    await truncate(join(dir, "patches.npy"), 100);
    assert.equal(await store.get(k), null);
    // A missing array file.
    await store.put(k, { global: GLOBAL, patches: PATCHES });
    await unlink(join(dir, "global.npy"));
    assert.equal(await store.get(k), null);
    // A manifest that is not JSON, or belongs to another key.
    await store.put(k, { global: GLOBAL });
    await writeFile(join(dir, "manifest.json"), "{\"format\": \"satc-fea");
    assert.equal(await store.get(k), null);
    const other = await store.put(key({ size: 99 }), { global: GLOBAL });
    await writeFile(join(dir, "manifest.json"), await readFile(join(other.dir, "manifest.json")));
    assert.equal(await store.get(k), null);
    // Rewriting repairs it, and leaves no temporary files behind.
    await store.put(k, { global: GLOBAL });
    assert.ok(await store.get(k));
    assert.ok((await readdir(dir)).every((f) => !f.endsWith(".tmp")));
    await store.delete(k);
    assert.equal(await store.get(k), null);
  });
});

test("put rejects bad names and shapes", async () => {
  await withStore(async (store) => {
    await assert.rejects(store.put(key({}), { "../evil": GLOBAL }), /array name '\.\.\/evil'/);
    await assert.rejects(store.put(key({}), { global: { data: new Float32Array(5), shape: [3, 2] } }), /shape \(3, 2\) but 5 values/);
    await assert.rejects(store.put(key({}), {}), /no arrays/);
  });
});

test("an unusable cache folder is a SatcError naming it", async () => {
  await withStore(async (_store, root) => {
    await writeFile(join(root, "file"), "x");
    const blocked = new FeatureStore(join(root, "file", "features"));
    await assert.rejects(blocked.put(key({}), { global: GLOBAL }), (err: unknown) => {
      assert.ok(err instanceof SatcError);
      assert.ok(err.message.includes(join(root, "file", "features")), err.message);
      assert.match(err.message, /SATC_CACHE/);
      return true;
    });
    assert.equal(await blocked.get(key({})), null);
  });
});
