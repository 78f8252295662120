import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStl10 } from "../../src/input/stl10.js";

/** STL-10 stores each image as 3 x 96 x 96 in column-major order: byte c*9216 + col*96 + row. */
test("STL-10 binary: column-major planes become upright interleaved images; labels 1..10 become 0..9", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-stl-"));
  const dir = join(root, "stl10_binary");
  await mkdir(dir);
  const n = 2;
  const x = new Uint8Array(n * 3 * 96 * 96);
  const value = (img: number, c: number, row: number, col: number) => (img * 50 + c * 80 + row * 3 + col * 7) % 256;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let col = 0; col < 96; col++) for (let row = 0; row < 96; row++) x[i * 27648 + c * 9216 + col * 96 + row] = value(i, c, row, col);
  await writeFile(join(dir, "test_X.bin"), x);
  await writeFile(join(dir, "test_y.bin"), Uint8Array.from([10, 1]));
  await writeFile(join(dir, "class_names.txt"), "airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n");
  const ds = await openStl10(root, { split: "test" });
  assert.deepEqual([...ds.labels!], [9, 0]);
  assert.equal(ds.classNames![9], "truck");
  const img = await ds.loadImage(1);
  assert.deepEqual([img.width, img.height, img.channels], [96, 96, 3]);
  for (const [row, col] of [[0, 0], [5, 70], [95, 1]]) {
    for (let c = 0; c < 3; c++) assert.equal(img.data[(row * 96 + col) * 3 + c], value(1, c, row, col), `pixel (${row},${col}) channel ${c}`);
  }
  await writeFile(join(dir, "test_y.bin"), Uint8Array.from([0, 1]));
  await assert.rejects(openStl10(root, { split: "test" }), /label 0 of image 0 is outside 1\.\.10/);
  await assert.rejects(openStl10(root, { split: "train" }), /train_X\.bin/);
  await rm(root, { recursive: true });
});
