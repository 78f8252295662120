/** openDataset dispatch and checkClusterCount. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import sharp from "sharp";
import { UsageError } from "../../src/errors.js";
import { writeNpy } from "../../src/features/npy.js";
import { ACCEPTED_INPUTS, DEBIAN_FASHION_MNIST_DIR, checkClusterCount, hasPixelBlock, openDataset } from "../../src/input/index.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "satc-open-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function idx(type: number, dims: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

test("openDataset picks the reader from the source", async () => {
  await withDir(async (dir) => {
    await writeNpy(join(dir, "feats.npy"), new Float32Array(10), [5, 2]);
    const feats = await openDataset(join(dir, "feats.npy"));
    assert.equal(feats.kind, "features");
    assert.equal(feats.ids.length, 5);

    await writeFile(join(dir, "lab.txt"), "a\nb\na\nb\nb\n");
    const labelled = await openDataset(join(dir, "feats.npy"), { labels: join(dir, "lab.txt") });
    assert.deepEqual(labelled.classNames, ["a", "b"]);

    await writeFile(join(dir, "x-images-idx3-ubyte.gz"), gzipSync(idx(0x08, [2, 1, 2], [1, 2, 3, 4])));
    await writeFile(join(dir, "x-labels-idx1-ubyte.gz"), gzipSync(idx(0x08, [2], [1, 0])));
    const images = await openDataset(join(dir, "x-images-idx3-ubyte.gz"));
    assert.equal(images.kind, "images");
    assert.ok(hasPixelBlock(images));
    assert.deepEqual(Array.from(images.labels!), [1, 0]);

    const folder = join(dir, "pics");
    await mkdir(folder);
    await sharp({ create: { width: 3, height: 3, channels: 3, background: "red" } }).png().toFile(join(folder, "r.png"));
    const pics = await openDataset(folder);
    assert.equal(pics.kind, "images");
    assert.deepEqual(pics.ids, ["r.png"]);
    assert.ok(!hasPixelBlock(pics));
    await assert.rejects(openDataset(folder, { labels: join(dir, "lab.txt") }), (e: unknown) => e instanceof UsageError && /sub-folders/.test(e.message));

    await writeFile(join(dir, "data.csv"), "1,2\n");
    await assert.rejects(openDataset(join(dir, "data.csv")), (e: unknown) => e instanceof UsageError && e.message.includes("data.csv") && e.message.includes(ACCEPTED_INPUTS));
  });
});

test("unknown specs and missing paths are usage errors naming them and listing what is accepted", async () => {
  await assert.rejects(openDataset("imagenet:test"), (e: unknown) => e instanceof UsageError && /unknown dataset spec 'imagenet:test'; expected fashion-mnist:train/.test(e.message));
  await assert.rejects(openDataset("/no/such/folder"), (e: unknown) => e instanceof UsageError && /input '\/no\/such\/folder' does not exist; expected .*a folder of images/.test(e.message));
  await assert.rejects(openDataset("fashion-mnist:validation"), UsageError);
  await assert.rejects(openDataset(""), UsageError);
});

const haveFashion = await access(join(DEBIAN_FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz")).then(() => true, () => false);

test("fashion-mnist:test through openDataset", { skip: haveFashion ? false : "dataset-fashion-mnist not installed" }, async () => {
  const ds = await openDataset("fashion-mnist:test");
  assert.equal(ds.name, "fashion-mnist:test");
  assert.equal(ds.ids.length, 10000);
});

test("checkClusterCount", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "five.npy");
    await writeNpy(path, new Float32Array(10), [5, 2]);
    const ds = await openDataset(path);
    checkClusterCount(ds, 5);
    assert.throws(() => checkClusterCount(ds, 12), (e: unknown) => e instanceof UsageError && e.message === `k=12 is larger than the number of items n=5 in ${path}`);
    assert.throws(() => checkClusterCount(ds, 0), /expected a positive integer for k but received 0/);
    assert.throws(() => checkClusterCount(ds, 2.5), UsageError);
  });
});
