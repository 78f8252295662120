/**
 * `satc encode` and `satc cluster --encoder clip|resnet50` end to end on tiny models in the real
 * hub layout (test/encoders/tinyModels.ts), offline through --model-dir: the model files resolve,
 * features are cached and reused, and run.json records the model files' hashes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { writeTinyClip, writeTinyResnet } from "../encoders/tinyModels.js";

const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "satc-cli-enc-"));
const models = join(tmp, "models");
const cache = join(tmp, "cache");

function satc(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, SATC_CACHE: cache, SATC_OFFLINE: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Two classes of 6 images: reddish and bluish, with some texture. */
async function photos(): Promise<string> {
  const dir = join(tmp, "photos");
  for (const [cls, rgb] of [["red", [220, 40, 30]], ["blue", [30, 60, 210]]] as const) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const w = 40 + 3 * i;
      const h = 36;
      const data = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, rgb[c] + ((p * 7 + i * 13 + c * 5) % 31) - 15));
      await sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(join(dir, cls, `p${i}.jpg`));
    }
  }
  return dir;
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

test("clip: encode caches, cluster reuses the cache, run.json records the model file hash", async () => {
  await writeTinyClip(join(models, "Xenova/clip-vit-base-patch32"));
  const dir = await photos();
  const first = satc("encode", dir, "--encoder", "clip", "--model-dir", models, "--json", "-q");
  assert.equal(first.code, 0, first.stderr);
  const doc = JSON.parse(first.stdout);
  assert.equal(doc.n, 12);
  assert.equal(doc.cached, false);
  assert.equal(doc.encoder.baseline, false);
  const again = JSON.parse(satc("encode", dir, "--encoder", "clip", "--model-dir", models, "--json", "-q").stdout);
  assert.equal(again.cached, true);
  assert.equal(again.path, doc.path);

  const out = join(tmp, "run-clip");
  const r = satc("cluster", dir, "-k", "2", "--encoder", "clip", "--model-dir", models, "--method", "kmeans", "--out", out, "--json", "-q");
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  // Red and blue images are far apart in the tiny tower's embedding (channel means x W): perfect split.
  assert.equal(result.metrics.acc, 1);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  const vision = record.encoder.models.find((m: { file: string }) => m.file.endsWith("vision_model.onnx"));
  assert.ok(vision, JSON.stringify(record.encoder.models));
  assert.equal(vision.id, "Xenova/clip-vit-base-patch32");
  assert.equal(vision.sha256, sha256(join(models, "Xenova/clip-vit-base-patch32", "onnx", "vision_model.onnx")));
  assert.equal(record.features.global, doc.path);
});

test("resnet50: global features are the feature map averaged over cells, clustered offline", async () => {
  await writeTinyResnet(join(models, "Xenova/resnet-50"));
  const dir = await photos();
  const r = satc("encode", dir, "--encoder", "resnet50", "--model-dir", models, "--json", "-q");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.n, 12);
  assert.equal(doc.encoder.name, "resnet50");
  assert.ok(doc.encoder.models.length >= 1);
});

test("a missing model offline fails with exit 1 and says which files to put where", () => {
  const r = satc("encode", join(tmp, "photos"), "--encoder", "clip", "--model-dir", join(tmp, "empty-models"), "-q");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /vision_model\.onnx/);
  assert.ok(r.stderr.includes(join(tmp, "empty-models")), r.stderr);
});
