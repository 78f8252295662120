import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageDataset, RawImage } from "../../src/input/dataset.js";
import { clipImageEncoder, encodeDataset, resnetPatchEncoder, type EncodeProgress } from "../../src/encoders/encode.js";
import { ClipEncoder } from "../../src/encoders/clip.js";
import { Resnet50Encoder } from "../../src/encoders/resnet50.js";
import { readNpy } from "../../src/features/npy.js";
import { writeTinyClip, writeTinyResnet } from "./tinyModels.js";

function fakeDataset(n: number): ImageDataset & { loads: number[] } {
  const loads: number[] = [];
  return {
    kind: "images",
    name: "fake",
    source: "fake",
    fingerprint: `fake-${n}`,
    ids: Array.from({ length: n }, (_, i) => `img${i}`),
    labels: null,
    classNames: null,
    skipped: [],
    loads,
    async loadImage(i: number): Promise<RawImage> {
      loads.push(i);
      const w = 20 + (i % 3) * 7;
      const data = new Uint8Array(w * 24 * 3).map((_, k) => (k * (i + 3) + i * 11) % 256);
      return { data, width: w, height: 24, channels: 3 };
    },
  };
}

test("encodeDataset streams batches to .npy, reports progress, and resumes an interrupted run", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-encode-"));
  await writeTinyResnet(join(root, "models", "Xenova/resnet-50"));
  const resnet = await Resnet50Encoder.load({ modelDir: join(root, "models"), cacheDir: root, threads: 1, preprocess: "squash" });
  const enc = resnetPatchEncoder(resnet);
  const data = fakeDataset(10);
  const out = join(root, "features");

  const events: EncodeProgress[] = [];
  const first = await encodeDataset(data, enc, { out, batchSize: 3, maxImages: 5, onProgress: (e) => events.push(e) });
  assert.equal(first.complete, false);
  assert.ok((await readdir(out)).includes("patches.npy.partial"));
  assert.ok(!(await readdir(out)).includes("patches.npy"));
  assert.ok(events.every((e) => e.total === 10 && e.imagesPerSecond >= 0));

  data.loads.length = 0;
  const events2: EncodeProgress[] = [];
  const second = await encodeDataset(data, enc, { out, batchSize: 3, onProgress: (e) => events2.push(e) });
  assert.equal(second.complete, true);
  assert.equal(second.resumedFrom, 6);
  assert.equal(events2.at(-1)!.done, 10);
  assert.equal(events2.at(-1)!.etaSeconds, 0);
  // Resumed: only the first batch (to learn shapes) and images 6..9 were decoded again.
  assert.deepEqual(data.loads, [0, 1, 2, 6, 7, 8, 9]);
  assert.deepEqual((await readdir(out)).sort(), ["patches.npy"]);

  const npy = await readNpy(second.files.patches.path);
  assert.deepEqual(npy.shape, [10, 56 * 56, 4]);
  const images = await Promise.all(data.ids.map((_, i) => data.loadImage(i)));
  const direct = await resnet.encodeImages(images);
  const got = npy.data as Float32Array;
  let worst = 0;
  for (let k = 0; k < direct.data.length; k++) worst = Math.max(worst, Math.abs(got[k] - direct.data[k]));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);

  // A different dataset fingerprint does not resume someone else's partial file.
  const other = fakeDataset(7);
  await encodeDataset(other, enc, { out: join(root, "o"), batchSize: 4, maxImages: 4 });
  const again = await encodeDataset({ ...fakeDataset(7), fingerprint: "changed" }, enc, { out: join(root, "o"), batchSize: 4 });
  assert.equal(again.resumedFrom, 0);
  await resnet.dispose();
  await rm(root, { recursive: true });
});

test("encodeDataset with CLIP writes unit-norm global rows (n, P)", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-encode-"));
  const tiny = await writeTinyClip(join(root, "Xenova/clip-vit-base-patch32"));
  const clip = await ClipEncoder.load({ modelDir: root, threads: 1, parts: ["vision"] });
  const res = await encodeDataset(fakeDataset(5), clipImageEncoder(clip), { out: join(root, "f"), batchSize: 2 });
  const npy = await readNpy(res.files.global.path);
  assert.deepEqual(npy.shape, [5, tiny.projection]);
  const d = npy.data as Float32Array;
  for (let i = 0; i < 5; i++) {
    let s = 0;
    for (let j = 0; j < tiny.projection; j++) s += d[i * tiny.projection + j] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${i} norm^2 ${s}`);
  }
  await clip.dispose();
  await rm(root, { recursive: true });
});
