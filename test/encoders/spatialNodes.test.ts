/**
 * ResNet-50 patch nodes for the spatial view, reduced as they stream (src/encoders/spatialNodes.ts),
 * on the tiny CNN in Xenova/resnet-50's layout (test/encoders/tinyModels.ts: 4 channels, a 56x56 grid
 * at 224 px). The reference is the unstreamed path: every image through the model in one call,
 * then applyChannelReduction of the whole (n, cells, 4) map; tolerance 1e-5 absolute (the same
 * float32 products, run in other chunk sizes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageDataset, RawImage } from "../../src/input/dataset.js";
import { Resnet50Encoder } from "../../src/encoders/resnet50.js";
import { resnetSpatialNodes, sampleImageIndices } from "../../src/encoders/index.js";
import { applyChannelReduction, fitChannelReduction } from "../../src/spatial/reduce.js";
import { writeTinyResnet } from "./tinyModels.js";

const ID = "Xenova/resnet-50";

function toyImage(i: number): RawImage {
  const w = 40 + (i % 3) * 7, h = 36 + (i % 2) * 5;
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = (p * (3 + c) + i * 41 + ((p * p + i) % 23) * 9) % 256;
  return { data, width: w, height: h, channels: 3 };
}

function toyDataset(n: number, fingerprint: string): ImageDataset & { loads: number } {
  const ds = {
    kind: "images" as const, name: "toy", source: "toy", fingerprint, ids: Array.from({ length: n }, (_, i) => `img${i}`),
    labels: null, classNames: null, skipped: [], loads: 0,
    loadImage: async (i: number) => {
      ds.loads++;
      return toyImage(i);
    },
  };
  return ds;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test("streamed reduced nodes equal the fitted reduction applied to the whole map computed at once", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-nodes-"));
  const models = join(root, "models");
  const tiny = await writeTinyResnet(join(models, ID));
  const n = 10;
  const ds = toyDataset(n, "nodes-a");
  const reduce = { channels: 2, sampleImages: 4, sampleNodes: 1_000_000, seed: 3 };
  const events: { stage: string; done: number; total: number }[] = [];
  const got = await resnetSpatialNodes(ds, {
    model: { modelDir: models, cacheDir: join(root, "model-cache"), batchSize: 3 },
    reduce,
    cacheDir: false,
    threads: 1,
    onProgress: (p) => events.push({ stage: p.stage, done: p.done, total: p.total }),
  });
  assert.equal(got.cached, false);
  assert.deepEqual(got.nodes.shape, [n, 56 * 56, 2]);
  assert.equal(got.reduction.method, "pca");
  assert.equal(got.reduction.inChannels, tiny.channels);
  // Sample pass over 4 images, then all 10: one monotone count to 14.
  assert.equal(ds.loads, 4 + n);
  assert.deepEqual(events.map((e) => e.total), events.map(() => 4 + n));
  assert.ok(events.every((e, i) => i === 0 || e.done >= events[i - 1].done));
  assert.deepEqual(events.at(-1), { stage: "nodes", done: 14, total: 14 });
  assert.ok(events.some((e) => e.stage === "sample"));

  // Unstreamed reference: all images in one call, the whole map reduced at once.
  const enc = await Resnet50Encoder.load({ modelDir: models, cacheDir: join(root, "model-cache"), threads: 1 });
  const images = await Promise.all(ds.ids.map((_, i) => toyImage(i)));
  const full = await enc.encodeImages(images);
  await enc.dispose();
  const ref = await applyChannelReduction({ data: full.data, shape: full.shape }, got.reduction, { threads: 1 });
  const diff = maxAbsDiff(got.nodes.data, ref.data);
  assert.ok(diff < 1e-5, `largest difference ${diff}`);

  // The reduction is the PCA of the sampled images' nodes (all of them here: sampleNodes is large),
  // fitted independently on the full map; components agree up to sign.
  const sample = sampleImageIndices(n, reduce);
  assert.equal(sample.length, 4);
  const cells = full.shape[1], c = full.shape[2];
  const sampleNodes = new Float32Array(sample.length * cells * c);
  sample.forEach((img, r) => sampleNodes.set(full.data.subarray(img * cells * c, (img + 1) * cells * c), r * cells * c));
  const refFit = await fitChannelReduction({ data: sampleNodes, shape: [sample.length, cells, c] }, { channels: 2, sampleNodes: sample.length * cells, seed: 3, threads: 1 });
  for (let k = 0; k < 2; k++) {
    let dot = 0;
    for (let j = 0; j < c; j++) dot += got.reduction.components[k * c + j] * refFit.components[k * c + j];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-4, `component ${k}: |cos| = ${Math.abs(dot)}`);
  }
  for (let j = 0; j < c; j++) assert.ok(Math.abs(got.reduction.mean[j] - refFit.mean[j]) < 1e-4);
  assert.ok(got.info.reduction.explainedVariance! > 0 && got.info.reduction.explainedVariance! <= 1 + 1e-6);
  assert.equal(got.info.reduction.sampleImages, 4);
  assert.equal(got.info.reduction.sampleNodes, 4 * cells);
  await rm(root, { recursive: true });
});

test("a second call reads the stored nodes without decoding or encoding an image; other settings recompute", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-nodes-"));
  const models = join(root, "models");
  await writeTinyResnet(join(models, ID));
  const store = join(root, "features");
  const ds = toyDataset(6, "nodes-b");
  const options = { model: { modelDir: models, cacheDir: join(root, "model-cache"), batchSize: 4 }, reduce: { channels: 3, sampleImages: 3, sampleNodes: 500 }, cacheDir: store, threads: 1 };
  const first = await resnetSpatialNodes(ds, options);
  assert.equal(first.cached, false);
  assert.equal(ds.loads, 3 + 6);
  assert.ok(first.info.path && first.info.path.startsWith(store));
  assert.equal(first.info.reduction.sampleNodes, 500);
  assert.equal(first.info.models[0].revision, "model-dir");
  // Only the entry remains: the work folder is gone.
  assert.deepEqual((await readdir(store)).filter((f) => f.endsWith(".work")), []);

  const second = await resnetSpatialNodes(ds, options);
  assert.equal(second.cached, true);
  assert.equal(second.info.cached, true);
  assert.equal(ds.loads, 9, "no image read the second time");
  assert.deepEqual(second.nodes.shape, first.nodes.shape);
  assert.equal(maxAbsDiff(second.nodes.data, first.nodes.data), 0);
  assert.equal(maxAbsDiff(second.reduction.components, first.reduction.components), 0);
  assert.deepEqual(second.info.reduction, first.info.reduction);

  // Another channel count or seed is another entry.
  const other = await resnetSpatialNodes(ds, { ...options, reduce: { ...options.reduce, channels: 2 } });
  assert.equal(other.cached, false);
  assert.deepEqual(other.nodes.shape, [6, 56 * 56, 2]);
  assert.equal((await resnetSpatialNodes(ds, { ...options, reduce: { ...options.reduce, seed: 1 } })).cached, false);
  // More channels than the model has: the identity, the raw map.
  const raw = await resnetSpatialNodes(ds, { ...options, reduce: { channels: 64 } });
  assert.equal(raw.reduction.method, "identity");
  assert.deepEqual(raw.nodes.shape, [6, 56 * 56, 4]);
  assert.equal((await resnetSpatialNodes(ds, { ...options, reduce: { channels: 64 } })).reduction.method, "identity");
  await rm(root, { recursive: true });
});

test("bad settings are rejected before any image is read", async () => {
  const ds = toyDataset(2, "nodes-c");
  await assert.rejects(resnetSpatialNodes(ds, { reduce: { channels: 0 }, cacheDir: false }), /reduced channels/);
  await assert.rejects(resnetSpatialNodes(ds, { reduce: { method: "svd" as never }, cacheDir: false }), /'pca' or 'projection'/);
  await assert.rejects(resnetSpatialNodes(ds, { model: { preprocess: "cifar", offline: true }, cacheDir: false }), /shorter, imagenet, squash/);
  assert.equal(ds.loads, 0);
});
