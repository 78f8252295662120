import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeFeatures } from "../../src/encoders/index.js";
import type { FeatureDataset, ImageDataset } from "../../src/input/dataset.js";

function toyImages(fingerprint: string): ImageDataset & { loads: number } {
  const ds = {
    kind: "images" as const, name: "toy", source: "toy", fingerprint, ids: ["a", "b", "c"],
    labels: null, classNames: null, skipped: [], loads: 0,
    loadImage: async (i: number) => {
      ds.loads++;
      return { data: new Uint8Array(16).map((_, j) => (j * 29 + i * 71) % 256), width: 4, height: 4, channels: 1 as const };
    },
  };
  return ds;
}

test("pixels features are cached by input fingerprint and options, and reused", async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "satc-enc-"));
  const ds = toyImages("fp-1");
  const first = await encodeFeatures(ds, "pixels", { size: 4, grid: 2 }, { cacheDir });
  assert.equal(first.cached, false);
  assert.equal(ds.loads, 3);
  assert.ok(first.path?.endsWith("global.npy"));
  const again = await encodeFeatures(ds, "pixels", { size: 4, grid: 2 }, { cacheDir });
  assert.equal(again.cached, true);
  assert.equal(ds.loads, 3, "no image decoded the second time");
  assert.deepEqual(again.global, first.global);
  assert.deepEqual(again.patches, first.patches);
  assert.equal(again.info.baseline, true);
  // Other options or another input: a new entry.
  assert.equal((await encodeFeatures(ds, "pixels", { size: 4, grid: 4 }, { cacheDir })).cached, false);
  assert.equal((await encodeFeatures(toyImages("fp-2"), "pixels", { size: 4, grid: 2 }, { cacheDir })).cached, false);
  // cacheDir false: never cached.
  const off = await encodeFeatures(ds, "pixels", { size: 4, grid: 2 }, { cacheDir: false });
  assert.equal(off.cached, false);
  assert.equal(off.path, null);
});

test("precomputed features pass through untouched", async () => {
  const features = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
  const ds: FeatureDataset = { kind: "features", name: "f", source: "f.npy", fingerprint: "x", ids: ["0", "1"], labels: null, classNames: null, skipped: [], features };
  const r = await encodeFeatures(ds, "pixels", {}, { cacheDir: false });
  assert.equal(r.global, features);
  assert.equal(r.info.name, "precomputed");
  assert.equal(r.path, "f.npy");
});
