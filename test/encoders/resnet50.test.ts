/**
 * ResNet-50 feature-map exposure on a tiny CNN classifier in Xenova/resnet-50's layout
 * (test/encoders/tinyModels.ts). Expected maps are computed here in plain JS from the same weights
 * and the same preprocessed tensor; tolerance 1e-4 (float32 convolutions summed in another order).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RawImage } from "../../src/input/dataset.js";
import { Resnet50Encoder, exposeFeatureMap, featureMapModel } from "../../src/encoders/resnet50.js";
import { RESNET_PREPROCESS, preprocessBatch } from "../../src/encoders/preprocess.js";
import { buildModel, parseModel } from "../../src/onnx/graph.js";
import { SatcError } from "../../src/errors.js";
import { convRelu, writeTinyResnet, type TinyResnet } from "./tinyModels.js";

const ID = "Xenova/resnet-50";

function image(w: number, h: number, seed: number, channels: 1 | 3 | 4 = 3): RawImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 57 + ((i * i) % 17)) % 256;
  return { data, width: w, height: h, channels };
}

/** (cells, channels) reference map of one preprocessed image. */
function referenceMap(tiny: TinyResnet, x: Float32Array, h: number, w: number): { data: Float32Array; h: number; w: number } {
  const a = convRelu(x, 3, h, w, tiny.w1, tiny.b1, tiny.channels);
  const b = convRelu(a.data, tiny.channels, a.h, a.w, tiny.w2, tiny.b2, tiny.channels);
  const cells = b.h * b.w;
  const out = new Float32Array(cells * tiny.channels);
  for (let c = 0; c < tiny.channels; c++) for (let p = 0; p < cells; p++) out[p * tiny.channels + c] = b.data[c * cells + p];
  return { data: out, h: b.h, w: b.w };
}

test("exposeFeatureMap: the pooling's input becomes the only output; classifier nodes and weights are dropped", async () => {
  for (const pooling of ["gap", "reducemean"] as const) {
    const root = await mkdtemp(join(tmpdir(), "satc-resnet-"));
    const tiny = await writeTinyResnet(join(root, ID), { pooling });
    const edit = exposeFeatureMap(await readFile(join(tiny.dir, "onnx/model.onnx")));
    assert.equal(edit.tensor, "/resnet/encoder/stages.3/relu");
    assert.equal(edit.pooling, pooling === "gap" ? "GlobalAveragePool" : "ReduceMean");
    assert.deepEqual(edit.nodes, { kept: 4, total: 7 });
    const g = parseModel(edit.bytes).graph!;
    assert.deepEqual(g.output!.map((o) => o.name), ["/resnet/encoder/stages.3/relu"]);
    assert.deepEqual(g.initializer!.map((t) => t.name).sort(), ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight"]);
    await rm(root, { recursive: true });
  }
  const noPool = buildModel({
    inputs: [{ name: "pixel_values", type: "float", shape: [1, 3, 4, 4] }],
    outputs: [{ name: "y", type: "float", shape: [1, 3, 4, 4] }],
    nodes: [{ op: "Relu", inputs: ["pixel_values"], outputs: ["y"] }],
  });
  assert.throws(() => exposeFeatureMap(noPool, "x.onnx"), (e: unknown) => e instanceof SatcError && /x\.onnx/.test(e.message) && /Relu/.test(e.message));
});

test("ResNet-50 encoder: (B, cells, channels) equals the JS reference, at 224 and at another input size", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-resnet-"));
  const cache = join(root, "cache");
  const tiny = await writeTinyResnet(join(root, "models", ID));
  const enc = await Resnet50Encoder.load({ modelDir: join(root, "models"), cacheDir: cache, threads: 1 });
  try {
    const images = [image(300, 250, 1), image(64, 64, 2, 1), image(90, 200, 3, 4)];
    const feats = await enc.encodeImages(images);
    // 224 -> stride 2 -> 112 -> stride 2 -> 56.
    assert.deepEqual(feats.shape, [3, 56 * 56, tiny.channels]);
    assert.deepEqual(feats.grid, [56, 56]);
    const { data: pixels } = preprocessBatch(images, RESNET_PREPROCESS.shorter);
    const plane = 3 * 224 * 224;
    images.forEach((_, i) => {
      const ref = referenceMap(tiny, pixels.subarray(i * plane, (i + 1) * plane), 224, 224);
      const got = feats.data.subarray(i * ref.data.length, (i + 1) * ref.data.length);
      let worst = 0;
      for (let k = 0; k < ref.data.length; k++) worst = Math.max(worst, Math.abs(got[k] - ref.data[k]));
      assert.ok(worst < 1e-4, `image ${i}: largest difference ${worst}`);
    });
    // Another input size gives its own grid.
    const small = new Float32Array(2 * 3 * 20 * 28).map((_, i) => Math.sin(i));
    const f2 = await enc.encodePixelValues(small, [2, 3, 20, 28]);
    assert.deepEqual(f2.shape, [2, 5 * 7, tiny.channels]);
    const ref2 = referenceMap(tiny, small.subarray(3 * 20 * 28), 20, 28);
    const got2 = f2.data.subarray(35 * tiny.channels);
    ref2.data.forEach((v, k) => assert.ok(Math.abs(got2[k] - v) < 1e-4));
    const rec = await enc.records();
    assert.equal(rec[0].file, "onnx/model.onnx");
    assert.equal(rec[0].revision, "model-dir");
  } finally {
    await enc.dispose();
  }
  await rm(root, { recursive: true });
});

test("the edited model is cached by the source file's hash: reused as is, remade when the source changes", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-resnet-"));
  const tiny = await writeTinyResnet(join(root, ID));
  const source = join(tiny.dir, "onnx/model.onnx");
  const first = await featureMapModel(source, root);
  assert.equal(first.created, true);
  const firstTime = (await stat(first.path)).mtimeMs;
  const again = await featureMapModel(source, root);
  assert.equal(again.created, false);
  assert.equal(again.path, first.path);
  assert.equal((await stat(first.path)).mtimeMs, firstTime);
  await writeFile(source, (await readFile(join((await writeTinyResnet(join(root, "other"), { seed: 9 })).dir, "onnx/model.onnx"))));
  const changed = await featureMapModel(source, root);
  assert.equal(changed.created, true);
  assert.notEqual(changed.path, first.path);
  await rm(root, { recursive: true });
});

test("preprocess variants: 'squash' resizes to 224x224 without crop; unknown names are rejected", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-resnet-"));
  await writeTinyResnet(join(root, ID));
  const enc = await Resnet50Encoder.load({ modelDir: root, cacheDir: root, threads: 1, preprocess: "squash" });
  const f = await enc.encodeImages([image(32, 32, 4)]);
  assert.deepEqual(f.grid, [56, 56]);
  await enc.dispose();
  await assert.rejects(Resnet50Encoder.load({ modelDir: root, cacheDir: root, preprocess: "cifar" }), /shorter, imagenet, squash/);
  await assert.rejects(Resnet50Encoder.load({ modelDir: root, cacheDir: root, device: "tpu" as never }), /'cpu' or 'cuda'/);
  await rm(root, { recursive: true });
});
