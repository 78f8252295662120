import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { encodePixelRow, encodePixels, resolvePixelsOptions, resizeForPixels } from "../../src/encoders/pixels.js";
import type { ImageDataset, RawImage } from "../../src/input/dataset.js";

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test("a 2x2 image, centred: hand-computed global vector and patches", () => {
  // pixels 0,255,255,0 -> [0,1,1,0]; mean 0.5 -> [-.5,.5,.5,-.5]; norm 1 -> unchanged.
  const o = resolvePixelsOptions({ size: 2, grid: 2 });
  const g = new Float32Array(4);
  const p = new Float32Array(4);
  encodePixelRow(new Uint8Array([0, 255, 255, 0]), o, g, p);
  close(g, [-0.5, 0.5, 0.5, -0.5]);
  close(p, [-0.5, 0.5, 0.5, -0.5]);
  // Uncentred: [0,1,1,0] / sqrt(2).
  encodePixelRow(new Uint8Array([0, 255, 255, 0]), { ...o, center: "none" }, g, p);
  close(g, [0, Math.SQRT1_2, Math.SQRT1_2, 0]);
  close(p, [0, 1, 1, 0]);
});

test("patch cells are cut row of cells first, pixels row-major inside a cell", () => {
  // 4x4 image with values 17*i (i = 0..15), grid 2 -> cells of 2x2.
  const px = new Uint8Array(16).map((_, i) => 17 * i);
  const o = resolvePixelsOptions({ size: 4, grid: 2, center: "none" });
  const p = new Float32Array(16);
  encodePixelRow(px, o, new Float32Array(16), p);
  const v = (i: number) => (17 * i) / 255;
  close(p, [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15].map(v));
});

test("a flat image centres to zero without NaN", () => {
  const o = resolvePixelsOptions({ size: 2, grid: 1 });
  const g = new Float32Array(4);
  encodePixelRow(new Uint8Array([7, 7, 7, 7]), o, g, new Float32Array(4));
  close(g, [0, 0, 0, 0]);
});

test("bad options are rejected with the value", () => {
  assert.throws(() => resolvePixelsOptions({ size: 28, grid: 5 }), /expected a divisor of size=28 for pixels grid but received 5/);
  assert.throws(() => resolvePixelsOptions({ color: "cmyk" as "rgb" }), /'gray' or 'rgb'/);
});

test("RGBA input is flattened on white and resized to gray; RGB kept with 3 channels", async () => {
  // A fully transparent 8x8 RGBA image shows white: gray 255 everywhere after resize to 4x4.
  const rgba: RawImage = { data: new Uint8Array(8 * 8 * 4), width: 8, height: 8, channels: 4 };
  const gray = await resizeForPixels(rgba, resolvePixelsOptions({ size: 4, grid: 1 }));
  assert.deepEqual([...gray], new Array(16).fill(255));
  const red = await sharp({ create: { width: 6, height: 6, channels: 3, background: { r: 255, g: 0, b: 0 } } }).raw().toBuffer();
  const rgb = await resizeForPixels({ data: new Uint8Array(red), width: 6, height: 6, channels: 3 }, resolvePixelsOptions({ size: 2, grid: 1, color: "rgb" }));
  assert.deepEqual([...rgb], [255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]);
});

test("encodePixels keeps input order, reports progress and is deterministic", async () => {
  const images: RawImage[] = Array.from({ length: 5 }, (_, k) => ({
    data: new Uint8Array(16).map((_, i) => (i * 13 + k * 41) % 256),
    width: 4,
    height: 4,
    channels: 1,
  }));
  const ds: ImageDataset = {
    kind: "images", name: "toy", source: "toy", fingerprint: "toy", ids: images.map((_, i) => `img${i}`),
    labels: null, classNames: null, skipped: [],
    loadImage: async (i) => {
      await new Promise((r) => setTimeout(r, (5 - i) * 2)); // finish out of order
      return images[i];
    },
  };
  const seen: number[] = [];
  const a = await encodePixels(ds, { size: 4, grid: 2 }, (p) => seen.push(p.done));
  const b = await encodePixels(ds, { size: 4, grid: 2 });
  assert.deepEqual(a.patches.shape, [5, 4, 4]);
  assert.equal(a.global.rows, 5);
  assert.equal(seen.at(-1), 5);
  assert.deepEqual(a.global.data, b.global.data);
  for (let k = 0; k < 5; k++) {
    const g = new Float32Array(16);
    encodePixelRow(images[k].data, resolvePixelsOptions({ size: 4, grid: 2 }), g, new Float32Array(16));
    assert.deepEqual(a.global.data.subarray(k * 16, (k + 1) * 16), g);
  }
});
