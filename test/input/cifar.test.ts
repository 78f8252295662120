/**
 * CIFAR readers. Python batches: fixtures from `/usr/bin/python3 test/reference/cifar_fixtures.py`
 * (numpy arrays pickled with protocol 2, as the real files) plus a Python-2-style pickle built here
 * byte by byte (BINSTRING strings, as in the published files). Binary batches: written here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openCifar } from "../../src/input/cifar.js";
import { readPickle, type PickledArray } from "../../src/input/pickle.js";
import { SatcError, UsageError } from "../../src/errors.js";

const fixtures = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/encoders/cifar");

test("CIFAR-10 and CIFAR-100 python batches (numpy pickles): labels, class names, planar pixels", async () => {
  const exp = JSON.parse(await readFile(join(fixtures, "expected.json"), "utf8"));
  const c10 = await openCifar(fixtures, { split: "test" });
  assert.equal(c10.ids.length, 3);
  assert.deepEqual([...c10.labels!], exp.cifar10.labels);
  assert.equal(c10.classNames![3], "cat");
  const img = await c10.loadImage(0);
  assert.deepEqual([img.width, img.height, img.channels], [32, 32, 3]);
  assert.deepEqual([...img.data.subarray((1 * 32 + 2) * 3, (1 * 32 + 2) * 3 + 3)], exp.cifar10.pixel_r1_c2);

  const c100 = await openCifar(join(fixtures, "cifar-100-python"), { split: "test" });
  assert.deepEqual([...c100.labels!], exp.cifar100.fine);
  assert.equal(c100.classNames!.length, 100);
  const coarse = await openCifar(join(fixtures, "cifar-100-python"), { split: "test", labels: "coarse" });
  assert.deepEqual([...coarse.labels!], exp.cifar100.coarse);
  assert.equal(coarse.classNames!.length, 20);
  assert.equal(coarse.name, "cifar100:test:coarse");
  const second = await c100.loadImage(1);
  assert.deepEqual([...second.data.subarray((32 + 2) * 3, (32 + 2) * 3 + 3)], exp.cifar100.second_pixel_r1_c2);
  await assert.rejects(openCifar(fixtures, { split: "test", labels: "coarse" }), UsageError);
  await assert.rejects(openCifar(fixtures, { split: "train" }), (e: unknown) => e instanceof SatcError && /data_batch_1/.test(e.message));
});

/** A Python 2 style protocol-2 pickle of {'labels': [...], 'data': uint8 array (n, 3072)}. */
function py2Pickle(labels: number[], data: Uint8Array): Uint8Array {
  const parts: number[] = [];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const shortStr = (s: string) => parts.push(0x55, s.length, ...ascii(s));
  const int32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  parts.push(0x80, 2, 0x7d, 0x71, 0, 0x28); // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
  shortStr("labels");
  parts.push(0x5d, 0x71, 1, 0x28); // EMPTY_LIST, BINPUT, MARK
  for (const l of labels) parts.push(0x4b, l);
  parts.push(0x65); // APPENDS
  shortStr("data");
  parts.push(0x63, ...ascii("numpy.core.multiarray\n_reconstruct\n"));
  parts.push(0x63, ...ascii("numpy\nndarray\n"), 0x4b, 0, 0x85);
  shortStr("b");
  parts.push(0x87, 0x52); // TUPLE3, REDUCE
  parts.push(0x28, 0x4b, 1, 0x4b, labels.length, 0x4d, 0x00, 0x0c, 0x86); // MARK 1 (n, 3072)
  parts.push(0x63, ...ascii("numpy\ndtype\n"));
  shortStr("u1");
  parts.push(0x4b, 0, 0x4b, 1, 0x87, 0x52); // dtype('u1', 0, 1)
  parts.push(0x28, 0x4b, 3);
  shortStr("|");
  parts.push(0x4e, 0x4e, 0x4e, 0x4a, ...int32(-1), 0x4a, ...int32(-1), 0x4b, 0, 0x74, 0x62); // dtype state, BUILD
  parts.push(0x89, 0x54, ...int32(data.length)); // False, BINSTRING
  const head = Uint8Array.from(parts);
  const tail = Uint8Array.from([0x74, 0x62, 0x75, 0x2e]); // TUPLE, BUILD, SETITEMS, STOP
  const out = new Uint8Array(head.length + data.length + tail.length);
  out.set(head);
  out.set(data, head.length);
  out.set(tail, head.length + data.length);
  return out;
}

test("pickle reader: Python 2 BINSTRING pickles of numpy arrays", () => {
  const data = Uint8Array.from({ length: 2 * 3072 }, (_, i) => (i * 7) % 256);
  const d = readPickle(py2Pickle([4, 2], data)) as Map<string, unknown>;
  assert.deepEqual(d.get("labels"), [4, 2]);
  const arr = d.get("data") as PickledArray;
  assert.deepEqual([arr.dtype, ...arr.shape], ["u1", 2, 3072]);
  assert.deepEqual(arr.data, data);
  assert.throws(() => readPickle(Uint8Array.from([0x80, 2, 0x99])), /opcode 0x99/);
});

test("CIFAR binary batches: CIFAR-10 <label><3072>, CIFAR-100 <coarse><fine><3072>", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-cifar-"));
  const rec10 = (label: number, seed: number) => [label, ...Array.from({ length: 3072 }, (_, i) => (i + seed) % 256)];
  await mkdir(join(root, "cifar-10-batches-bin"));
  await writeFile(join(root, "cifar-10-batches-bin", "test_batch.bin"), Uint8Array.from([...rec10(7, 0), ...rec10(1, 5)]));
  await writeFile(join(root, "cifar-10-batches-bin", "batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  const c10 = await openCifar(root, { split: "test" });
  assert.deepEqual([...c10.labels!], [7, 1]);
  assert.equal(c10.classNames!.length, 10);
  const img = await c10.loadImage(1);
  // pixel (0,0): R = plane 0 [0] = 5, G = plane 1 [0] = (1024 + 5) % 256, B = (2048 + 5) % 256.
  assert.deepEqual([...img.data.subarray(0, 3)], [5, (1024 + 5) % 256, (2048 + 5) % 256]);

  const dir100 = join(root, "cifar-100-binary");
  await mkdir(dir100);
  await writeFile(join(dir100, "test.bin"), Uint8Array.from([11, 73, ...new Array(3072).fill(9), 19, 2, ...new Array(3072).fill(8)]));
  assert.deepEqual([...(await openCifar(dir100, { split: "test" })).labels!], [73, 2]);
  assert.deepEqual([...(await openCifar(dir100, { split: "test", labels: "coarse" })).labels!], [11, 19]);
  await writeFile(join(dir100, "test.bin"), new Uint8Array(3000));
  await assert.rejects(openCifar(dir100, { split: "test" }), /3074-byte records/);
  await rm(root, { recursive: true });
});
