/**
 * IDX files written by hand (plain and gzipped), and the real Fashion-MNIST test split.
 * Reference figures for Fashion-MNIST come from numpy (Debian's /usr/bin/python3, numpy 1.24.2):
 *   x = np.frombuffer(gzip.open(d+'t10k-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1,28,28)
 *   y = np.frombuffer(gzip.open(d+'t10k-labels-idx1-ubyte.gz').read(), np.uint8, offset=8)
 *   np.bincount(y) -> 1000 each; int(x.sum()) -> 573469082; int(x[0].sum()) -> 33456;
 *   int(x[9999].sum()) -> 24390; y[:10] -> [9 2 1 1 6 1 4 6 5 7]; x[42,14,14] -> 203
 * (d = '/usr/share/datasets/fashion-mnist/'). Exact integers, no tolerance.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { SatcError } from "../../src/errors.js";
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, openFashionMnist, parseFashionMnistSpec } from "../../src/input/fashionMnist.js";
import { hasPixelBlock, openIdx, parseIdx, readIdx } from "../../src/input/idx.js";

/** IDX bytes: magic 0x0000, type, nDims, big-endian dims, then big-endian values. */
function idxBytes(type: number, dims: number[], values: number[], size = 1): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length * size);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  let o = 4 + 4 * dims.length;
  for (const v of values) {
    if (type === 0x08) out[o] = v;
    else if (type === 0x0b) view.setInt16(o, v, false);
    else if (type === 0x0c) view.setInt32(o, v, false);
    else if (type === 0x0d) view.setFloat32(o, v, false);
    else if (type === 0x0e) view.setFloat64(o, v, false);
    o += size;
  }
  return out;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "satc-idx-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// 3 images of 2x3 pixels, values 10*i + j
const IMAGES = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25];

test("parseIdx reads big-endian dims and values of every type", () => {
  const u8 = parseIdx(idxBytes(0x08, [3, 2, 3], IMAGES), "m");
  assert.deepEqual(u8.shape, [3, 2, 3]);
  assert.equal(u8.dtype, "uint8");
  assert.deepEqual(Array.from(u8.data), IMAGES);
  const i32 = parseIdx(idxBytes(0x0c, [3], [70000, -2, 5], 4), "m");
  assert.deepEqual(Array.from(i32.data), [70000, -2, 5]);
  const i16 = parseIdx(idxBytes(0x0b, [2], [-300, 300], 2), "m");
  assert.deepEqual(Array.from(i16.data), [-300, 300]);
  const f32 = parseIdx(idxBytes(0x0d, [2], [1.5, -0.25], 4), "m");
  assert.deepEqual(Array.from(f32.data), [1.5, -0.25]);
  const f64 = parseIdx(idxBytes(0x0e, [1, 1], [Math.PI], 8), "m");
  assert.deepEqual(Array.from(f64.data), [Math.PI]);
});

test("parseIdx rejects bad magic, unknown types, truncation and trailing bytes, naming the file", () => {
  assert.throws(() => parseIdx(new Uint8Array([1, 2, 3, 4]), "a.idx"), /a\.idx: not an IDX file/);
  assert.throws(() => parseIdx(idxBytes(0x07, [1], [1]), "b.idx"), /b\.idx: unknown IDX value type 0x07/);
  const good = idxBytes(0x08, [3, 2, 3], IMAGES);
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1), "c.idx"), /c\.idx: truncated IDX data: shape \(3, 2, 3\) of uint8 needs 18 bytes/);
  const longer = new Uint8Array(good.length + 2);
  longer.set(good);
  assert.throws(() => parseIdx(longer, "d.idx"), /d\.idx: IDX file has 2 bytes more/);
});

test("openIdx reads plain and gzipped files and finds the labels file beside the images", async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, "tiny-images-idx3-ubyte"), idxBytes(0x08, [3, 2, 3], IMAGES));
    await writeFile(join(dir, "tiny-labels-idx1-ubyte"), idxBytes(0x08, [3], [2, 0, 1]));
    await writeFile(join(dir, "gz-images-idx3-ubyte.gz"), gzipSync(idxBytes(0x08, [3, 2, 3], IMAGES)));
    await writeFile(join(dir, "gz-labels-idx1-ubyte.gz"), gzipSync(idxBytes(0x08, [3], [2, 0, 1])));

    for (const name of ["tiny-images-idx3-ubyte", "gz-images-idx3-ubyte.gz"]) {
      const ds = await openIdx(join(dir, name));
      assert.ok(hasPixelBlock(ds));
      assert.deepEqual(Array.from(ds.labels!), [2, 0, 1], name);
      assert.deepEqual(ds.ids, ["00000", "00001", "00002"]);
      assert.deepEqual({ ...ds.pixels, data: undefined }, { data: undefined, count: 3, width: 3, height: 2, channels: 1 });
      const img = await ds.loadImage(2);
      assert.deepEqual({ w: img.width, h: img.height, c: img.channels }, { w: 3, h: 2, c: 1 });
      assert.deepEqual(Array.from(img.data), [20, 21, 22, 23, 24, 25]);
      img.data[0] = 99; // a copy: the block is unchanged
      assert.equal(ds.pixels.data[12], 20);
      await assert.rejects(ds.loadImage(3), /out of range/);
    }
    // Same content plain and gzipped, but fingerprints hash the stored files.
    assert.notEqual((await openIdx(join(dir, "tiny-images-idx3-ubyte"))).fingerprint, (await openIdx(join(dir, "gz-images-idx3-ubyte.gz"))).fingerprint);

    // No labels beside: labels null. A labels file of the wrong length: error naming it.
    await writeFile(join(dir, "solo-images-idx3-ubyte"), idxBytes(0x08, [3, 2, 3], IMAGES));
    assert.equal((await openIdx(join(dir, "solo-images-idx3-ubyte"))).labels, null);
    await writeFile(join(dir, "bad-images-idx3-ubyte"), idxBytes(0x08, [3, 2, 3], IMAGES));
    await writeFile(join(dir, "bad-labels-idx1-ubyte"), idxBytes(0x08, [2], [0, 1]));
    await assert.rejects(openIdx(join(dir, "bad-images-idx3-ubyte")), /bad-labels-idx1-ubyte has 2 labels but its images file has 3 images/);
    // A labels file given explicitly, as text.
    await writeFile(join(dir, "names.txt"), "cat\ndog\ncat\n");
    const named = await openIdx(join(dir, "solo-images-idx3-ubyte"), { labels: join(dir, "names.txt") });
    assert.deepEqual(named.classNames, ["cat", "dog"]);
    assert.deepEqual(Array.from(named.labels!), [0, 1, 0]);
    // Labels passed as images: wrong rank.
    await assert.rejects(openIdx(join(dir, "tiny-labels-idx1-ubyte")), /expected IDX images, uint8 of shape \(nImages, height, width\)/);
    // Corrupt gzip.
    const gz = gzipSync(idxBytes(0x08, [3, 2, 3], IMAGES));
    await writeFile(join(dir, "cut-images-idx3-ubyte.gz"), gz.subarray(0, gz.length - 6));
    await assert.rejects(readIdx(join(dir, "cut-images-idx3-ubyte.gz")), (err: unknown) => err instanceof SatcError && /cut-images-idx3-ubyte\.gz: cannot decompress/.test(err.message));
  });
});

test("fashion-mnist specs: split parsing and the missing-files message", async () => {
  assert.equal(parseFashionMnistSpec("fashion-mnist:test"), "test");
  assert.equal(parseFashionMnistSpec("fashion-mnist:all"), "all");
  assert.equal(parseFashionMnistSpec("mnist:test"), null);
  assert.throws(() => parseFashionMnistSpec("fashion-mnist:valid"), /fashion-mnist:train, fashion-mnist:test or fashion-mnist:all .* 'fashion-mnist:valid'/);
  await withDir(async (dir) => {
    await assert.rejects(openFashionMnist("test", { dataDir: dir }), (err: unknown) => {
      assert.ok(err instanceof SatcError);
      assert.ok(err.message.includes(dir), err.message);
      assert.match(err.message, /t10k-images-idx3-ubyte/);
      assert.match(err.message, /apt-get install dataset-fashion-mnist/);
      assert.match(err.message, /--data-dir/);
      return true;
    });
    // A data dir with the standard names, uncompressed.
    await writeFile(join(dir, "t10k-images-idx3-ubyte"), idxBytes(0x08, [2, 28, 28], Array.from({ length: 2 * 784 }, (_, i) => i % 256)));
    await writeFile(join(dir, "t10k-labels-idx1-ubyte"), idxBytes(0x08, [2], [4, 9]));
    const ds = await openFashionMnist("test", { dataDir: dir });
    assert.deepEqual(ds.ids, ["test/00000", "test/00001"]);
    assert.deepEqual(Array.from(ds.labels!), [4, 9]);
    assert.equal(ds.classNames![9], "Ankle boot");
  });
});

const haveFashion = await access(join(DEBIAN_FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz")).then(() => true, () => false);

test("the real Fashion-MNIST test split matches numpy", { skip: haveFashion ? false : `no ${DEBIAN_FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)` }, async () => {
  const ds = await openFashionMnist("test");
  assert.equal(ds.ids.length, 10000);
  assert.equal(ds.ids[7], "test/00007");
  assert.deepEqual(ds.classNames, [...FASHION_MNIST_CLASSES]);
  const counts = new Array(10).fill(0);
  for (const l of ds.labels!) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  assert.deepEqual(Array.from(ds.labels!.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  assert.equal(ds.pixels.data.length, 10000 * 784);
  let total = 0;
  for (const v of ds.pixels.data) total += v;
  assert.equal(total, 573469082);
  const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);
  const first = await ds.loadImage(0);
  assert.deepEqual([first.width, first.height, first.channels], [28, 28, 1]);
  assert.equal(sum(first.data), 33456);
  assert.equal(sum((await ds.loadImage(9999)).data), 24390);
  assert.equal((await ds.loadImage(42)).data[14 * 28 + 14], 203);
});
