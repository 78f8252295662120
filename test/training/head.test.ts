/** initHead follows TAC/PyTorch initialisation; headProbabilities in inference mode. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import { headProbabilities, initHead } from "../../src/training/head.js";
import { headPredict, mat64 } from "../../src/training/reference.js";

test("initHead: truncated-normal weights with std 0.02, PyTorch-default uniform biases, BatchNorm identity", () => {
  const h = initHead(256, 128, 10, new Random(1));
  assert.equal(h.w1.length, 128 * 256);
  assert.equal(h.w2.length, 10 * 128);
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  assert.ok(Math.abs(std(h.w1) - 0.02) < 0.0005, `w1 std ${std(h.w1)}`);
  assert.ok(Math.abs(std(h.w2) - 0.02) < 0.002, `w2 std ${std(h.w2)}`);
  assert.ok(h.b1.every((b) => Math.abs(b) <= 1 / 16) && h.b1.some((b) => Math.abs(b) > 1 / 32), "b1 ~ U(-1/sqrt(256), 1/sqrt(256))");
  assert.ok(h.b2.every((b) => Math.abs(b) <= 1 / Math.sqrt(128)));
  assert.ok(h.gamma.every((g) => g === 1) && h.beta.every((b) => b === 0));
  assert.ok(h.runningMean.every((m) => m === 0) && h.runningVar.every((v) => v === 1));
  assert.deepEqual(initHead(256, 128, 10, new Random(1)).w1, h.w1, "same seed, same head");
});

test("headProbabilities (ONNX, inference mode) equals the float64 reference, across chunk boundaries", async () => {
  const rng = new Random(2);
  const h = initHead(6, 5, 3, rng);
  h.w1 = h.w1.map((x) => x * 30);
  h.w2 = h.w2.map((x) => x * 30);
  h.runningMean = Float32Array.from({ length: 5 }, () => rng.normal() * 0.1);
  h.runningVar = Float32Array.from({ length: 5 }, () => 0.5 + rng.next());
  h.gamma = Float32Array.from({ length: 5 }, () => 1 + rng.normal() * 0.2);
  const x = { data: Float32Array.from({ length: 11 * 6 }, () => rng.normal()), rows: 11, cols: 6 };
  const got = await headProbabilities(h, x, { batchSize: 4, threads: 1 });
  const D = (a: Float32Array) => Float64Array.from(a);
  const expected = headPredict({
    w1: mat64(5, 6, h.w1), b1: D(h.b1), gamma: D(h.gamma), beta: D(h.beta), w2: mat64(3, 5, h.w2), b2: D(h.b2),
    runningMean: D(h.runningMean), runningVar: D(h.runningVar),
  }, mat64(11, 6, x.data));
  assert.deepEqual([got.rows, got.cols], [11, 3]);
  for (let i = 0; i < got.data.length; i++) assert.ok(Math.abs(got.data[i] - expected.data[i]) < 1e-5, `entry ${i}`);
  await assert.rejects(headProbabilities(h, { data: new Float32Array(7), rows: 1, cols: 7 }), /7 columns, the head expects 6/);
});
