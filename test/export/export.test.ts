import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { SatcError } from "../../src/errors.js";
import { clusterFolderName, exportClusters, fileNameFor, slug } from "../../src/export/index.js";
import type { FeatureDataset } from "../../src/input/dataset.js";
import { fakeImages, makeRun, solidImage } from "../report/helpers.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "satc-export-"));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const K = 3;
const NAMES = [["Sneaker", "ankle boot"], [], ["Tée/shirt", "../etc", "<top>", "fourth"]];

/** Six images in class folders, two of them with the same base name; clusters 0,1,2,0,2,0. */
async function folderRun() {
  const root = await tempDir();
  const input = join(root, "photos");
  const rel = ["cat/001.png", "cat/002.png", "dog/001.png", "dog/x y.png", "bird/a.png", "bird/b.png"];
  const paths = rel.map((r) => join(input, r));
  for (const [i, p] of paths.entries()) {
    await mkdir(join(p, ".."), { recursive: true });
    const img = solidImage(i);
    await writeFile(p, await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer());
  }
  const cluster = Int32Array.from([0, 1, 2, 0, 2, 0]);
  const confidence = Float32Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);
  const runDir = join(root, "run");
  await makeRun(runDir, { ids: rel, cluster, confidence, k: K, source: input, names: NAMES });
  const dataset = fakeImages(rel.map((_, i) => solidImage(i)), { ids: rel, paths });
  return { root, runDir, rel, paths, cluster, dataset };
}

describe("folder names", () => {
  test("number padded to the width of k-1, then up to three name slugs", () => {
    assert.equal(clusterFolderName(3, 10, ["Sneaker", "boot"]), "03-sneaker-boot");
    assert.equal(clusterFolderName(7, 1000, []), "007");
    assert.equal(clusterFolderName(2, 3, NAMES[2]), "02-tee-shirt-etc-top");
    assert.equal(slug("  Ça va?  "), "ca-va");
    assert.ok(clusterFolderName(1, 2, ["a".repeat(100), "b"]).length <= 60);
  });
  test("file names from ids never contain a path separator", () => {
    assert.equal(fileNameFor("cat/001.png", ".png"), "cat_001.png");
    assert.equal(fileNameFor("test/00042", ".png"), "test_00042.png");
    assert.equal(fileNameFor("../../evil", ".png"), "__.._evil.png"); // ".._.._evil", leading dots -> "_"
    assert.equal(fileNameFor('a:b*"c', ".jpg"), "a_b__c.jpg");
  });
});

describe("exportClusters", () => {
  test("link: one folder per cluster with symbolic links to the input's files", async () => {
    const r = await folderRun();
    const dest = join(r.root, "out");
    const result = await exportClusters(r.runDir, dest, { mode: "link", dataset: r.dataset });
    assert.equal(result.written, "link");
    assert.equal(result.files, 6);
    assert.deepEqual((await readdir(dest)).sort(), ["00-sneaker-ankle-boot", "01", "02-tee-shirt-etc-top"]);
    for (let c = 0; c < K; c++) {
      const folder = join(dest, result.clusters[c].folder);
      const files = (await readdir(folder)).sort();
      const expected = r.rel.filter((_, i) => r.cluster[i] === c).map((id) => id.replace("/", "_")).sort();
      assert.deepEqual(files, expected, `cluster ${c}`);
      for (const f of files) {
        assert.ok((await lstat(join(folder, f))).isSymbolicLink());
        const original = r.paths[r.rel.findIndex((id) => id.replace("/", "_") === f)];
        assert.equal(await readlink(join(folder, f)), original);
      }
    }
  });

  test("copy: regular files with the same bytes", async () => {
    const r = await folderRun();
    const dest = join(r.root, "copied");
    const result = await exportClusters(r.runDir, dest, { mode: "copy", dataset: r.dataset });
    assert.equal(result.written, "copy");
    const file = join(dest, result.clusters[2].folder, "dog_001.png");
    assert.ok((await lstat(file)).isFile());
    assert.deepEqual(await readFile(file), await readFile(r.paths[2]));
  });

  test("inputs without files get lossless PNGs", async () => {
    const root = await tempDir();
    const ids = ["test/00000", "test/00001", "test/00002", "test/00003"];
    const images = ids.map((_, i) => ({ data: Uint8Array.from({ length: 28 * 28 }, (_, p) => (p * (i + 3)) % 256), width: 28, height: 28, channels: 1 as const }));
    const runDir = join(root, "run");
    await makeRun(runDir, { ids, cluster: Int32Array.from([1, 0, 1, 1]), confidence: new Float32Array(4).fill(0.5), k: 2, source: "fashion-mnist:test" });
    const progress: number[] = [];
    const result = await exportClusters(runDir, join(root, "out"), { mode: "link", dataset: fakeImages(images, { ids }), onProgress: (e) => progress.push(e.done) });
    assert.equal(result.written, "png");
    assert.deepEqual(result.clusters.map((c) => c.count), [1, 3]);
    assert.equal(progress.at(-1), 4);
    const png = join(root, "out", "01", "test_00002.png");
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [28, 28, 1]);
    const { data } = await sharp(png).toColourspace("b-w").raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(new Uint8Array(data), images[2].data);
  });

  test("a non-empty destination, or a file, is refused before anything is written", async () => {
    const r = await folderRun();
    const dest = join(r.root, "busy");
    await mkdir(dest);
    await writeFile(join(dest, "keep.txt"), "mine");
    await assert.rejects(exportClusters(r.runDir, dest, { mode: "copy", dataset: r.dataset }), (e: unknown) =>
      e instanceof SatcError && e.message.includes(`export destination ${dest} is not empty (1 entries, e.g. 'keep.txt')`));
    assert.deepEqual(await readdir(dest), ["keep.txt"]);
    await assert.rejects(exportClusters(r.runDir, join(dest, "keep.txt"), { mode: "copy", dataset: r.dataset }), /is a file/);
    const empty = join(r.root, "empty");
    await mkdir(empty);
    assert.equal((await exportClusters(r.runDir, empty, { mode: "copy", dataset: r.dataset })).files, 6);
  });

  test("a feature-only input has nothing to export", async () => {
    const r = await folderRun();
    const dataset: FeatureDataset = {
      kind: "features", name: "f", source: "f.npy", fingerprint: "f", ids: r.rel, labels: null, classNames: null, skipped: [],
      features: { data: new Float32Array(12), rows: 6, cols: 2 },
    };
    await assert.rejects(exportClusters(r.runDir, join(r.root, "x"), { mode: "copy", dataset }), /is a feature matrix: it has no images to export/);
  });
});
