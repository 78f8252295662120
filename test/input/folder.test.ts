/**
 * Image folders: images written by sharp into a temporary folder (png, jpg, webp, gif, tiff), a corrupt
 * file, a BMP (which sharp 0.35's bundled libvips cannot decode), nested class folders, empty folders.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { SatcError } from "../../src/errors.js";
import { openImageFolder, readableImageExtensions, scanImageFolder } from "../../src/input/folder.js";

const W = 6;
const H = 4;
/** RGB test pattern: value depends on position and channel. */
const RGB = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
const GRAY = Uint8Array.from({ length: W * H }, (_, i) => i * 10);

const rgb = () => sharp(RGB, { raw: { width: W, height: H, channels: 3 } });

/** A minimal 24-bit uncompressed BMP (2x1 pixels). */
function bmpBytes(): Uint8Array {
  const b = new Uint8Array(62);
  const v = new DataView(b.buffer);
  b[0] = 0x42; b[1] = 0x4d; v.setUint32(2, 62, true); v.setUint32(10, 54, true);
  v.setUint32(14, 40, true); v.setInt32(18, 2, true); v.setInt32(22, 1, true);
  v.setUint16(26, 1, true); v.setUint16(28, 24, true); v.setUint32(34, 8, true);
  b.set([255, 0, 0, 0, 255, 0, 0, 0], 54);
  return b;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "satc-folder-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function classFolders(root: string): Promise<void> {
  for (const d of ["cats/sub", "dogs", "birds", ".thumbs"]) await mkdir(join(root, d), { recursive: true });
  await sharp(GRAY, { raw: { width: W, height: H, channels: 1 } }).toColourspace("b-w").png().toFile(join(root, "cats", "a.png"));
  await sharp({ create: { width: W, height: H, channels: 3, background: { r: 100, g: 150, b: 200 } } })
    .jpeg({ quality: 95 }).toFile(join(root, "cats", "sub", "b.JPG"));
  await rgb().webp({ lossless: true }).toFile(join(root, "dogs", "c.webp"));
  await rgb().gif().toFile(join(root, "dogs", "d.gif"));
  await rgb().tiff({ compression: "lzw" }).toFile(join(root, "dogs", "e.tiff"));
  await writeFile(join(root, "birds", "broken.png"), "this is not a png");
  await writeFile(join(root, "birds", "x.bmp"), bmpBytes());
  await writeFile(join(root, "dogs", "notes.txt"), "not an image, ignored");
  await rgb().png().toFile(join(root, ".thumbs", "hidden.png"));
}

test("sharp as installed reads jpg, png, webp, gif and tiff but not bmp", () => {
  const readable = readableImageExtensions();
  for (const ext of [".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff"]) assert.ok(readable.has(ext), ext);
  assert.ok(!readable.has(".bmp"), "sharp reads .bmp now: update folder.ts's comment and this test");
});

test("class folders: sorted relative ids, labels from first-level folders, unreadable files skipped", async () => {
  await withDir(async (root) => {
    await classFolders(root);
    const ds = await openImageFolder(root);
    assert.deepEqual(ds.ids, ["cats/a.png", "cats/sub/b.JPG", "dogs/c.webp", "dogs/d.gif", "dogs/e.tiff"]);
    assert.deepEqual(ds.classNames, ["cats", "dogs"]);
    assert.deepEqual(Array.from(ds.labels!), [0, 0, 1, 1, 1]);
    assert.equal(ds.ignoredFiles, 1);
    assert.deepEqual(ds.skipped.map((s) => s.id), ["birds/broken.png", "birds/x.bmp"]);
    assert.match(ds.skipped[0].reason, /^unreadable image: /);
    assert.match(ds.skipped[1].reason, /\.bmp files cannot be decoded by sharp/);
    assert.equal(ds.path(1), join(root, "cats", "sub", "b.JPG"));

    const gray = await ds.loadImage(0);
    assert.deepEqual([gray.width, gray.height, gray.channels], [W, H, 1]);
    assert.deepEqual(Array.from(gray.data), Array.from(GRAY));
    const jpg = await ds.loadImage(1);
    assert.deepEqual([jpg.width, jpg.height, jpg.channels], [W, H, 3]);
    let maxErr = 0;
    for (let i = 0; i < jpg.data.length; i++) maxErr = Math.max(maxErr, Math.abs(jpg.data[i] - [100, 150, 200][i % 3]));
    assert.ok(maxErr <= 3, `jpeg of a flat colour decodes within 3 levels, got max error ${maxErr}`);
    for (const i of [2, 4]) {
      const lossless = await ds.loadImage(i);
      assert.deepEqual([lossless.width, lossless.height, lossless.channels], [W, H, 3], ds.ids[i]);
      assert.deepEqual(Array.from(lossless.data), Array.from(RGB), ds.ids[i]);
    }
    const gif = await ds.loadImage(3);
    assert.deepEqual([gif.width, gif.height], [W, H]);
    assert.ok(gif.channels === 3 || gif.channels === 4);
    assert.equal(gif.data.length, W * H * gif.channels);
  });
});

test("images at the top level: no labels; fingerprint follows names, sizes and mtimes", async () => {
  await withDir(async (root) => {
    await mkdir(join(root, "sub"));
    await rgb().png().toFile(join(root, "z.png"));
    await rgb().png().toFile(join(root, "sub", "y.png"));
    await rgb().png().toFile(join(root, "a.png"));
    const ds = await openImageFolder(root);
    assert.deepEqual(ds.ids, ["a.png", "sub/y.png", "z.png"]);
    assert.equal(ds.labels, null);
    assert.equal(ds.classNames, null);
    assert.deepEqual(ds.skipped, []);
    const again = await scanImageFolder(root);
    assert.equal(again.fingerprint, ds.fingerprint);
    await utimes(join(root, "z.png"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const touched = await scanImageFolder(root);
    assert.notEqual(touched.fingerprint, ds.fingerprint);
  });
});

test("a single class folder gives no labels (one class would make scores meaningless)", async () => {
  await withDir(async (root) => {
    await mkdir(join(root, "only"));
    await rgb().png().toFile(join(root, "only", "a.png"));
    await rgb().png().toFile(join(root, "only", "b.png"));
    const ds = await openImageFolder(root);
    assert.equal(ds.labels, null);
  });
});

test("an animated GIF gives its first frame", async () => {
  await withDir(async (root) => {
    const frame = (r: number, b: number) => sharp({ create: { width: 4, height: 3, channels: 3, background: { r, g: 0, b } } }).png().toBuffer();
    await sharp([await frame(255, 0), await frame(0, 255)], { join: { animated: true } }).gif().toFile(join(root, "anim.gif"));
    assert.equal((await sharp(join(root, "anim.gif")).metadata()).pages, 2);
    const img = await (await openImageFolder(root)).loadImage(0);
    assert.deepEqual([img.width, img.height], [4, 3]);
    assert.deepEqual(Array.from(img.data.subarray(0, 3)), [255, 0, 0]);
  });
});

test("EXIF orientation is applied", async () => {
  await withDir(async (root) => {
    await rgb().jpeg().withMetadata({ orientation: 6 }).toFile(join(root, "rotated.jpg"));
    const ds = await openImageFolder(root);
    const img = await ds.loadImage(0);
    assert.deepEqual([img.width, img.height], [H, W]);
  });
});

test("damage past the header: kept by a metadata scan (decode fails naming the file), skipped by a decode scan", async () => {
  await withDir(async (root) => {
    const png = await sharp(Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    await writeFile(join(root, "cut.png"), png.subarray(0, Math.floor(png.length / 2)));
    await rgb().png().toFile(join(root, "ok.png"));
    const quick = await openImageFolder(root);
    assert.deepEqual(quick.ids, ["cut.png", "ok.png"]);
    await assert.rejects(quick.loadImage(0), (err: unknown) => err instanceof SatcError && err.message.includes(join(root, "cut.png")));
    const thorough = await openImageFolder(root, { validate: "decode" });
    assert.deepEqual(thorough.ids, ["ok.png"]);
    assert.deepEqual(thorough.skipped.map((s) => s.id), ["cut.png"]);
  });
});

test("empty folder, no images, all unreadable, missing folder: SatcError naming the folder", async () => {
  await withDir(async (root) => {
    const empty = join(root, "empty");
    await mkdir(empty);
    await assert.rejects(openImageFolder(empty), (err: unknown) => err instanceof SatcError && err.message.startsWith(`no images found in ${empty}`));
    await writeFile(join(empty, "readme.md"), "# hi");
    await assert.rejects(openImageFolder(empty), /no images found in .*; 1 other file ignored/);
    const bad = join(root, "bad");
    await mkdir(bad);
    await writeFile(join(bad, "a.jpg"), "nope");
    await writeFile(join(bad, "b.png"), new Uint8Array(0));
    await assert.rejects(openImageFolder(bad), (err: unknown) => {
      assert.ok(err instanceof SatcError);
      assert.match(err.message, new RegExp(`none of the 2 image files in ${bad} could be read \\(first: a\\.jpg: unreadable image`));
      return true;
    });
    await assert.rejects(openImageFolder(join(root, "missing")), /cannot read image folder .*missing/);
    const file = join(root, "file.png");
    await writeFile(file, await readFile(join(bad, "a.jpg")));
    await assert.rejects(openImageFolder(file), /file\.png is not a folder/);
  });
});

test("scan reports progress", async () => {
  await withDir(async (root) => {
    for (let i = 0; i < 3; i++) await rgb().png().toFile(join(root, `${i}.png`));
    const events: { done: number; total: number }[] = [];
    await scanImageFolder(root, { onProgress: (e) => events.push({ done: e.done, total: e.total }) });
    assert.deepEqual(events[events.length - 1], { done: 3, total: 3 });
  });
});
