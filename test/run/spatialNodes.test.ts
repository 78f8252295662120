/**
 * runCluster with the method's real views (DESIGN 1): visual = CLIP image embeddings, spatial =
 * ResNet-50's pre-pooling map -> patch graph -> GAT, on tiny models in the hub layout
 * (test/encoders/tinyModels.ts), offline through modelDir. The tiny ResNet here keeps
 * writeTinyResnet's files but its ONNX graph patchifies 224 px with one 32x32 stride-32 Conv,
 * so the map is 7x7 like ResNet-50's (writeTinyResnet's own 56x56 grid would make 3,136 nodes
 * per image and a 3,136-wide position one-hot for the GAT).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runCluster } from "../../src/run/cluster.js";
import { buildModel } from "../../src/onnx/graph.js";
import { Random } from "../../src/util/random.js";
import { fileSha256 } from "../../src/models/resolve.js";
import { writeTinyClip, writeTinyResnet } from "../encoders/tinyModels.js";

const RESNET = "Xenova/resnet-50";
const CLIP = "Xenova/clip-vit-base-patch32";

/** writeTinyResnet's layout with a 7x7 map of `channels` channels: Conv 32x32 stride 32 -> Relu -> GAP -> Gemm. */
async function writeTinyResnet7x7(dir: string, channels = 8): Promise<void> {
  await writeTinyResnet(dir);
  const rng = new Random(21);
  const w = Float32Array.from({ length: channels * 3 * 32 * 32 }, () => rng.normal() * 0.05);
  const model = buildModel({
    name: "main_graph",
    opset: 17,
    inputs: [{ name: "pixel_values", type: "float", shape: ["batch_size", "num_channels", "height", "width"] }],
    outputs: [{ name: "logits", type: "float", shape: ["batch_size", 3] }],
    initializers: [
      { name: "conv.weight", type: "float", dims: [channels, 3, 32, 32], data: w },
      { name: "fc.weight", type: "float", dims: [3, channels], data: Float32Array.from({ length: 3 * channels }, () => rng.normal()) },
      { name: "fc.bias", type: "float", dims: [3], data: new Float32Array(3) },
    ],
    nodes: [
      { op: "Conv", inputs: ["pixel_values", "conv.weight"], outputs: ["c"], attributes: { kernel_shape: [32, 32], strides: [32, 32] } },
      { op: "Relu", inputs: ["c"], outputs: ["/resnet/encoder/stages.3/relu"] },
      { op: "GlobalAveragePool", inputs: ["/resnet/encoder/stages.3/relu"], outputs: ["pool"] },
      { op: "Flatten", inputs: ["pool"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "Gemm", inputs: ["flat", "fc.weight", "fc.bias"], outputs: ["logits"], attributes: { transB: 1 } },
    ],
  });
  await writeFile(join(dir, "onnx/model.onnx"), model);
}

/** Two classes of 28 images (the heads mine 50 neighbours: n > 50): reddish stripes and bluish checks. */
async function photos(dir: string): Promise<string> {
  for (const [cls, rgb] of [["red", [220, 40, 30]], ["blue", [30, 60, 210]]] as const) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 28; i++) {
      const w = 40 + (i % 7) * 4, h = 36;
      const data = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) {
        const x = p % w, y = Math.floor(p / w);
        const pattern = cls === "red" ? ((x >> 2) & 1) * 60 : (((x >> 3) + (y >> 3)) & 1) * 60;
        for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, rgb[c] + pattern - 30 + ((p * 7 + i * 13 + c * 5) % 17)));
      }
      await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, cls, `p${i}.png`));
    }
  }
  return dir;
}

test("runCluster --encoder clip --method heads --spatial gat: ResNet-50 nodes as the spatial view, recorded in run.json", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-run-nodes-"));
  const models = join(root, "models");
  await writeTinyClip(join(models, CLIP));
  await writeTinyResnet7x7(join(models, RESNET));
  const input = await photos(join(root, "photos"));
  const features = join(root, "features");
  const events: string[] = [];
  const run = () =>
    runCluster({
      input, k: 2, encoder: "clip", encoderOptions: { modelDir: models, cacheDir: join(root, "model-cache"), batchSize: 5 },
      method: "heads", spatial: "gat", text: "off", epochs: 3, patience: 3, cacheDir: features,
      spatialNodes: { channels: 4, sampleImages: 5 },
      onProgress: (e) => events.push(e.stage),
    });
  const { record, assignments } = await run();
  assert.equal(record.encoder.name, "clip");
  assert.equal(record.options.spatial, "gat");
  assert.equal(assignments.cluster.length, 56);
  assert.ok(record.runs[0].iterations >= 1);
  assert.ok(events.includes("spatial-nodes") && events.includes("train"));
  const s = record.spatialNodes!;
  assert.ok(s, "run.json records the spatial nodes' source");
  assert.equal(s.name, "resnet50");
  assert.equal(s.options.model, RESNET);
  assert.equal(s.models[0].id, RESNET);
  assert.equal(s.models[0].sha256, await fileSha256(join(models, RESNET, "onnx/model.onnx")));
  assert.equal(s.cells, 49);
  assert.equal(s.inChannels, 8);
  assert.equal(s.channels, 4);
  assert.equal(s.reduction.method, "pca");
  assert.equal(s.reduction.sampleImages, 5);
  assert.equal(s.cached, false);
  assert.ok(s.path && s.path.startsWith(features));
  // JSON round trip (run.json is written from this record).
  assert.deepEqual(JSON.parse(JSON.stringify(record)).spatialNodes, s);

  // The second run reuses the stored nodes.
  const again = await run();
  assert.equal(again.record.spatialNodes!.cached, true);
  assert.equal(again.record.spatialNodes!.path, s.path);
  assert.ok((await readdir(features)).length >= 2);

  // --spatial none: no ResNet nodes, nothing recorded.
  const none = await runCluster({ input, k: 2, encoder: "clip", encoderOptions: { modelDir: models, cacheDir: join(root, "model-cache") }, method: "heads", spatial: "none", text: "off", epochs: 2, patience: 2, cacheDir: features });
  assert.equal(none.record.spatialNodes, null);
  await rm(root, { recursive: true });
});

test("runCluster --encoder resnet50 --spatial mean takes the ResNet options of the encoder itself", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-run-nodes-"));
  const models = join(root, "models");
  await writeTinyResnet7x7(join(models, RESNET));
  const input = await photos(join(root, "photos"));
  const { record } = await runCluster({
    input, k: 2, encoder: "resnet50", encoderOptions: { modelDir: models, cacheDir: join(root, "model-cache"), preprocess: "squash" },
    method: "heads", spatial: "mean", text: "off", epochs: 2, patience: 2, cacheDir: false,
    spatialNodes: { channels: 3, method: "projection" },
  });
  const s = record.spatialNodes!;
  assert.equal(s.options.preprocess, "squash");
  assert.equal(s.reduction.method, "projection");
  assert.equal(s.reduction.sampleImages, 0);
  assert.equal(s.channels, 3);
  assert.equal(s.path, null);
  await rm(root, { recursive: true });
});
