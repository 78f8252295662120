import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { encodePixelRow, encodePixels, gradientHistograms, resolvePixelsOptions, resizeForPixels } from "../../src/encoders/pixels.js";
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
  assert.throws(() => resolvePixelsOptions({ patches: "sift" as "pixels" }), /expected 'pixels' or 'gradients' for pixels patches but received 'sift'/);
  assert.throws(() => resolvePixelsOptions({ bins: 0 }), /pixels bins but received 0/);
});

test("gradient cells of a vertical edge, by hand", () => {
  // Columns 0,0,255,255: gx = 1 at x = 1 and x = 2 of every row, gy = 0. theta = 0 lies half-way
  // between the centres of bin 8 (170 deg) and bin 0 (10 deg), so each such pixel gives 0.5 to both.
  // 2x2 cells: each holds two edge pixels -> bins 0 and 8 get 1 each; sqrt keeps 1; 8 ones over
  // the 4 cells normalise to 1/sqrt(8).
  const px = new Uint8Array(16).map((_, i) => (i % 4 >= 2 ? 255 : 0));
  const out = new Float32Array(4 * 9);
  gradientHistograms(px, resolvePixelsOptions({ size: 4, grid: 2, patches: "gradients" }), out);
  const cell = [1, 0, 0, 0, 0, 0, 0, 0, 1].map((v) => v / Math.sqrt(8));
  close(out, [...cell, ...cell, ...cell, ...cell]);
  // A horizontal edge (rows 0,0,255,255) points at 90 deg: the middle of bin 4 (80..100 deg).
  const py = new Uint8Array(16).map((_, i) => (i >= 8 ? 255 : 0));
  gradientHistograms(py, resolvePixelsOptions({ size: 4, grid: 2, patches: "gradients" }), out);
  const mid = [0, 0, 0, 0, 1, 0, 0, 0, 0].map((v) => v / 2);
  close(out, [...mid, ...mid, ...mid, ...mid]);
});

test("gradient cells match the numpy reference (test/reference/hog_reference.py) to 1e-5", () => {
  // float64 whole-array numpy vs satc's float32 loop; the descriptors are unit vectors.
  const { cases } = JSON.parse(readFileSync(new URL("../../../test/fixtures/encoders/hog/cases.json", import.meta.url), "utf8")) as {
    cases: { name: string; size: number; color: "gray" | "rgb"; grid: number; bins: number; pixels: number[]; expected: number[] }[];
  };
  assert.equal(cases.length, 8);
  for (const c of cases) {
    const o = resolvePixelsOptions({ size: c.size, color: c.color, grid: c.grid, bins: c.bins, patches: "gradients" });
    const out = new Float32Array(c.grid * c.grid * c.bins);
    gradientHistograms(Uint8Array.from(c.pixels), o, out);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - c.expected[i]) <= 1e-5, `${c.name}, index ${i}: ${out[i]} vs ${c.expected[i]}`);
  }
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
  // Gradient cells: (n, grid*grid, bins), the same global view.
  const h = await encodePixels(ds, { size: 4, grid: 2, patches: "gradients", bins: 6 });
  assert.deepEqual(h.patches.shape, [5, 4, 6]);
  assert.deepEqual(h.global.data, a.global.data);
  for (let k = 0; k < 5; k++) {
    const cells = new Float32Array(24);
    gradientHistograms(images[k].data, resolvePixelsOptions({ size: 4, grid: 2, patches: "gradients", bins: 6 }), cells);
    assert.deepEqual(h.patches.data.subarray(k * 24, (k + 1) * 24), cells);
  }
});
