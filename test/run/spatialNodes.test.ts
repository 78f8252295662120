/**
 * runCluster with the method's real views (DESIGN 1): visual = CLIP image embeddings, spatial =
 * ResNet-50's pre-pooling map -> patch graph -> GAT, on tiny models in the hub layout
 * (test/encoders/tinyModels.ts; the ResNet with a 7x7 map, test/run/spatialFixtures.ts), offline
 * through modelDir.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCluster } from "../../src/run/cluster.js";
import { fileSha256 } from "../../src/models/resolve.js";
import { writeTinyClip } from "../encoders/tinyModels.js";
import { CLIP, RESNET, photos, writeTinyResnet7x7 } from "./spatialFixtures.js";

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
  const none = await runCluster({ input, k: 2, encoder: "clip", encoderOptions: { modelDir: models, cacheDir: join(root, "model-cache") }, method: "heads", spatial: "none", text: "off", epochs: 1, patience: 1, cacheDir: features });
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
    method: "heads", spatial: "mean", text: "off", epochs: 1, patience: 1, cacheDir: false,
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
