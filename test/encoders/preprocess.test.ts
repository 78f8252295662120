/**
 * satc's decode + resize + crop against Pillow 9.4 and torchvision 0.14.
 * Fixtures: `/usr/bin/python3 test/reference/preprocess_reference.py` writes the images in
 * test/fixtures/encoders/preprocess/ and expected.json (PIL's pixels as base64 raw bytes).
 * Tolerance: 0 (bit-exact). satc's resampler is Pillow's algorithm with Pillow's fixed-point
 * arithmetic, and sharp uses the same libjpeg/libpng decoders, so nothing is expected to differ;
 * if a future libjpeg changes its IDCT, JPEG decodes may move by a level or two, and this test
 * will say so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { RawImage } from "../../src/input/dataset.js";
import {
  RESNET_PREPROCESS,
  centerCrop,
  cmykToRgb,
  decodeImage,
  preprocessBatch,
  preprocessPixels,
  resizeImage,
  resnetPreprocess,
  shorterSideSize,
  toTensor,
} from "../../src/encoders/preprocess.js";

const dir = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/encoders/preprocess");

interface Stored {
  width: number;
  height: number;
  data: string;
}
interface Expected {
  mode: string;
  decoded: Stored;
  tv: Stored;
  bicubic: Stored;
  up: Stored;
  highByte?: Stored;
}

const raw = (s: Stored): RawImage => ({ data: new Uint8Array(Buffer.from(s.data, "base64")), width: s.width, height: s.height, channels: 3 });

function assertSame(actual: RawImage, expected: RawImage, what: string): void {
  assert.equal(`${actual.width}x${actual.height}x${actual.channels}`, `${expected.width}x${expected.height}x3`, what);
  let worst = 0;
  for (let i = 0; i < actual.data.length; i++) worst = Math.max(worst, Math.abs(actual.data[i] - expected.data[i]));
  assert.equal(worst, 0, `${what}: largest difference ${worst} levels`);
}

const tvSpec = { ...RESNET_PREPROCESS.shorter, size: 32, crop: 28 };

test("decode, resize and crop match Pillow/torchvision on gray, RGBA, CMYK, 16-bit and EXIF-rotated images", async () => {
  const expected = JSON.parse(await readFile(join(dir, "expected.json"), "utf8")) as Record<string, Expected>;
  assert.ok(Object.keys(expected).length >= 7);
  for (const [name, e] of Object.entries(expected)) {
    const decoded = await decodeImage(await readFile(join(dir, name)), name);
    if (e.highByte) {
      assertSame(decoded, raw(e.highByte), `${name} decode (high byte; PIL would clip)`);
    } else {
      assertSame(decoded, raw(e.decoded), `${name} decode (PIL mode ${e.mode})`);
    }
    const ref = raw(e.decoded);
    assertSame(preprocessPixels(ref, tvSpec), raw(e.tv), `${name} Resize(32)+CenterCrop(28)`);
    assertSame(resizeImage(ref, 40, 30, "bicubic"), raw(e.bicubic), `${name} bicubic 40x30`);
    assertSame(resizeImage(ref, 70, 53, "bilinear"), raw(e.up), `${name} bilinear up 70x53`);
  }
});

test("the EXIF-rotated JPEG comes out upright (orientation 6: 64x30 stored, 30x64 shown)", async () => {
  const img = await decodeImage(await readFile(join(dir, "exif6.jpg")));
  assert.deepEqual([img.width, img.height], [30, 64]);
});

test("sizes and crops follow torchvision: int() of the long side, round-half-even offsets", () => {
  assert.deepEqual(shorterSideSize(500, 375, 224), [298, 224]);
  assert.deepEqual(shorterSideSize(375, 500, 224), [224, 298]);
  assert.deepEqual(shorterSideSize(32, 32, 224), [224, 224]);
  // (7 - 4) / 2 = 1.5 -> round-half-even 2 (torchvision), floor 1 (HF processors).
  const img: RawImage = { data: Uint8Array.from({ length: 7 * 7 }, (_, i) => i), width: 7, height: 7, channels: 1 };
  assert.equal(centerCrop(img, 4, "round").data[0], 2 * 7 + 2);
  assert.equal(centerCrop(img, 4, "floor").data[0], 1 * 7 + 1);
  // (9 - 4) / 2 = 2.5 -> 2 both ways.
  const img9: RawImage = { data: Uint8Array.from({ length: 81 }, (_, i) => i % 256), width: 9, height: 9, channels: 1 };
  assert.equal(centerCrop(img9, 4, "round").data[0], 2 * 9 + 2);
  assert.throws(() => centerCrop(img, 8), /7x7/);
  assert.throws(() => resnetPreprocess("cifar"), /shorter, imagenet, squash/);
});

test("a constant image stays constant through resizing, and tensors are (x/255 - mean)/std in NCHW order", () => {
  const flat: RawImage = { data: new Uint8Array(13 * 9 * 3).fill(200), width: 13, height: 9, channels: 3 };
  for (const f of ["bilinear", "bicubic"] as const) assert.ok(resizeImage(flat, 31, 5, f).data.every((v) => v === 200));
  const a: RawImage = { data: Uint8Array.from([0, 128, 255, 10, 20, 30]), width: 2, height: 1, channels: 3 };
  const t = toTensor([a], [0.5, 0.25, 0], [0.5, 0.25, 2]);
  const expectTensor = [(0 / 255 - 0.5) / 0.5, (10 / 255 - 0.5) / 0.5, (128 / 255 - 0.25) / 0.25, (20 / 255 - 0.25) / 0.25, 255 / 255 / 2, 30 / 255 / 2];
  expectTensor.forEach((v, i) => assert.ok(Math.abs(t[i] - v) < 1e-6, `value ${i}: ${t[i]} vs ${v}`));
  const batch = preprocessBatch([flat, a], RESNET_PREPROCESS.squash);
  assert.deepEqual(batch.dims, [2, 3, 224, 224]);
  assert.equal(batch.data.length, 2 * 3 * 224 * 224);
});

test("CMYK follows PIL's formula: no ink is white, full K is black", () => {
  const rgb = cmykToRgb(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 128, 64, 0, 64]), 4, 1);
  assert.deepEqual([...rgb.data.subarray(0, 9)], [255, 255, 255, 0, 0, 0, 0, 255, 255]);
  // nk = 191: R = 191 - round(128*191/255) = 191 - 96 = 95; G = 191 - 48 = 143; B = 191.
  assert.deepEqual([...rgb.data.subarray(9)], [95, 143, 191]);
});
