/**
 * Spatial encoders: the float64 reference's backward against central finite differences, and
 * the ONNX forward, gradients and Adam update against the reference, on tiny shapes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import { createSession, tensor } from "../../src/onnx/session.js";
import { adamUpdate, TAC_ADAM } from "../../src/training/reference.js";
import {
  buildEncoderGraph, encoderNamesIO, encoderParamShapes, initEncoderParams, SpatialEncoder, usesGraph,
  type SpatialEncoderConfig, type SpatialEncoderName,
} from "../../src/spatial/encoders.js";
import { encoderBackward64, encoderForward64, type Params64 } from "../../src/spatial/reference.js";
import { buildPatchGraph, graphMasks } from "../../src/spatial/graph.js";

const KINDS: SpatialEncoderName[] = ["gat", "gcn", "transformer"];
const B = 3, N = 5, C = 4;

function config(kind: SpatialEncoderName, positions: boolean): SpatialEncoderConfig {
  return { kind, nodes: N, channels: C, heads: kind === "gcn" ? 1 : 2, headDim: 3, positions };
}

/** Random inputs, a random graph mask (self loop + 2 random neighbours), params with non-zero bias. */
function setup(cfg: SpatialEncoderConfig, seed: number) {
  const rng = new Random(seed);
  const x = Float64Array.from({ length: B * N * C }, () => rng.normal());
  const mask = new Float64Array(B * N * N).fill(-1e9);
  for (let b = 0; b < B; b++) for (let u = 0; u < N; u++) {
    mask[(b * N + u) * N + u] = 0;
    for (let e = 0; e < 2; e++) mask[(b * N + u) * N + rng.int(N)] = 0;
  }
  const p32 = initEncoderParams(cfg, rng);
  // Larger than Glorot so the ELU and LeakyReLU see both signs; a non-zero bias.
  const p: Params64 = Object.fromEntries(Object.entries(p32).map(([k, v]) => [k, Float64Array.from(v, (a) => (k === "bias" ? 0.3 * rng.normal() : 2 * a))]));
  const dz = Float64Array.from({ length: B * cfg.heads * cfg.headDim }, () => rng.normal());
  return { x, mask: usesGraph(cfg.kind) ? mask : null, p, dz };
}

for (const kind of KINDS) {
  for (const positions of [false, true]) {
    test(`${kind}${positions ? " with positions" : ""}: reference backward matches central finite differences (float64)`, () => {
      const cfg = config(kind, positions);
      const { x, mask, p, dz } = setup(cfg, 7);
      const loss = (q: Params64) => encoderForward64(cfg, q, x, mask, B).reduce((s, z, i) => s + z * dz[i], 0);
      const grads = encoderBackward64(cfg, p, x, mask, B, dz);
      const h = 1e-6;
      for (const [name] of encoderParamShapes(cfg)) {
        for (let i = 0; i < p[name].length; i++) {
          const orig = p[name][i];
          p[name][i] = orig + h;
          const up = loss(p);
          p[name][i] = orig - h;
          const down = loss(p);
          p[name][i] = orig;
          const fd = (up - down) / (2 * h);
          assert.ok(Math.abs(fd - grads[name][i]) <= 1e-6 + 1e-5 * Math.abs(fd), `${name}[${i}]: analytic ${grads[name][i]} vs numeric ${fd}`);
        }
      }
    });

    test(`${kind}${positions ? " with positions" : ""}: ONNX forward, gradients and Adam step agree with the reference`, async () => {
      const cfg = config(kind, positions);
      const { x, mask, p, dz } = setup(cfg, 11);
      const shapes = encoderParamShapes(cfg);
      const feeds: Record<string, ReturnType<typeof tensor>> = { x: tensor(Float32Array.from(x), [B, N, C]) };
      if (mask) feeds.mask = tensor(Float32Array.from(mask), [B, N, N]);
      for (const [name, shape] of shapes) feeds[encoderNamesIO.param(name)] = tensor(Float32Array.from(p[name]), shape);

      const fwd = await createSession(buildEncoderGraph(cfg, { mode: "forward" }), { threads: 1 });
      const z = (await fwd.run(feeds)).z.data as Float32Array;
      const zRef = encoderForward64(cfg, p, x, mask, B);
      for (let i = 0; i < zRef.length; i++) assert.ok(Math.abs(z[i] - zRef[i]) < 1e-5 + 1e-4 * Math.abs(zRef[i]), `z[${i}] ${z[i]} vs ${zRef[i]}`);
      await fwd.release();

      const train = await createSession(buildEncoderGraph(cfg, { mode: "train", gradients: true }), { threads: 1 });
      const rng = new Random(5);
      const m: Params64 = {}, v: Params64 = {};
      for (const [name, shape] of shapes) {
        m[name] = Float64Array.from(p[name], () => 0.01 * rng.normal());
        v[name] = Float64Array.from(p[name], () => 0.001 * rng.next());
        feeds[encoderNamesIO.m(name)] = tensor(Float32Array.from(m[name]), shape);
        feeds[encoderNamesIO.v(name)] = tensor(Float32Array.from(v[name]), shape);
      }
      const t = 3, adam = TAC_ADAM;
      feeds.dz = tensor(Float32Array.from(dz), [B, cfg.heads * cfg.headDim]);
      feeds.adam_step_size = tensor(Float32Array.of(adam.lr / (1 - adam.beta1 ** t)), [1]);
      feeds.adam_inv_sqrt_bc2 = tensor(Float32Array.of(1 / Math.sqrt(1 - adam.beta2 ** t)), [1]);
      const out = await train.run(feeds);
      const gRef = encoderBackward64(cfg, p, x, mask, B, dz);
      for (const [name] of shapes) {
        const g = out[encoderNamesIO.grad(name)].data as Float32Array;
        let scale = 0;
        for (const a of gRef[name]) scale = Math.max(scale, Math.abs(a));
        for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - gRef[name][i]) <= 1e-4 * (1 + scale), `grad ${name}[${i}] ${g[i]} vs ${gRef[name][i]}`);
        // Adam from the ONNX gradient (so the check is about the update, not the gradient's rounding).
        const pNew = Float64Array.from(p[name]), mNew = m[name].slice(), vNew = v[name].slice();
        adamUpdate(pNew, g, mNew, vNew, t, adam);
        const got = out[encoderNamesIO.newParam(name)].data as Float32Array;
        for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - pNew[i]) < 1e-6 + 1e-5 * Math.abs(pNew[i]), `updated ${name}[${i}] ${got[i]} vs ${pNew[i]}`);
      }
      await train.release();
    });
  }
}

test("SpatialEncoder: forward/backward as a ViewEncoder lowers a linear objective; attach shares the parameters", async () => {
  const rng = new Random(4);
  const n = 20;
  const nodes = { data: Float32Array.from({ length: n * N * C }, () => rng.normal()), shape: [n, N, C] as [number, number, number] };
  const graph = await buildPatchGraph(nodes, { k: 2 });
  const enc = await SpatialEncoder.create("gat", nodes, graph, new Random(1), { heads: 2, headDim: 3, threads: 1, adam: { ...TAC_ADAM, lr: 0.05 } });
  const idx = Int32Array.from({ length: 8 }, (_, i) => i);
  const target = Float32Array.from({ length: 8 * enc.outDim }, () => rng.normal());
  const objective = (z: Float32Array) => z.reduce((s, a, i) => s + a * target[i], 0);
  const first = objective((await enc.forward(idx, "eval")).data);
  for (let s = 0; s < 20; s++) {
    const z = await enc.forward(idx, "train");
    assert.equal(z.rows, 8);
    await enc.backward({ data: target, rows: 8, cols: enc.outDim }); // descend on sum(z * target)
  }
  const last = objective((await enc.forward(idx, "eval")).data);
  assert.ok(last < first - 0.1, `objective ${first} -> ${last}`);
  // A copy over the first 8 images gives the same outputs.
  const sub = { data: nodes.data.slice(0, 8 * N * C), shape: [8, N, C] as [number, number, number] };
  const other = enc.attach(sub, await buildPatchGraph(sub, { k: 2 }));
  assert.deepEqual((await other.forward(idx, "eval")).data, (await enc.forward(idx, "eval")).data);
  // Each node's mask row opens exactly its self loop and its 2 distinct neighbours.
  assert.equal(graphMasks(graph, [0]).filter((a) => a === 0).length, N * 3);
  await enc.release();
});

/**
 * Against PyTorch (autograd, float64): test/fixtures/spatial/encoders.json written by
 * `/usr/bin/python3 test/reference/spatial_encoders.py` (torch 1.13, an independent formulation
 * with torch ops). The float64 reference must agree to 1e-9; the ONNX float32 graphs to 1e-4
 * relative to the largest value.
 */
test("encoders agree with PyTorch autograd (fixture): reference in float64, ONNX in float32", async () => {
  const { readFileSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  const file = fileURLToPath(new URL("../../../test/fixtures/spatial/encoders.json", import.meta.url));
  const fixture = JSON.parse(readFileSync(file, "utf8")) as { cases: {
    kind: SpatialEncoderName; positions: boolean; batch: number; nodes: number; channels: number; heads: number; headDim: number;
    x: number[]; mask: number[] | null; params: Record<string, number[]>; dz: number[]; z: number[]; grads: Record<string, number[]>;
  }[] };
  assert.equal(fixture.cases.length, 6);
  for (const t of fixture.cases) {
    const cfg: SpatialEncoderConfig = { kind: t.kind, nodes: t.nodes, channels: t.channels, heads: t.heads, headDim: t.headDim, positions: t.positions };
    const p: Params64 = Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, Float64Array.from(v)]));
    const label = `${t.kind}${t.positions ? "+positions" : ""}`;
    const z = encoderForward64(cfg, p, t.x, t.mask, t.batch);
    z.forEach((v, i) => assert.ok(Math.abs(v - t.z[i]) < 1e-9, `${label} z[${i}]`));
    const g = encoderBackward64(cfg, p, t.x, t.mask, t.batch, t.dz);
    for (const [name, want] of Object.entries(t.grads)) want.forEach((v, i) => assert.ok(Math.abs(g[name][i] - v) < 1e-9, `${label} grad ${name}[${i}]`));

    const shapes = encoderParamShapes(cfg);
    const feeds: Record<string, ReturnType<typeof tensor>> = { x: tensor(Float32Array.from(t.x), [t.batch, t.nodes, t.channels]) };
    if (t.mask) feeds.mask = tensor(Float32Array.from(t.mask), [t.batch, t.nodes, t.nodes]);
    for (const [name, shape] of shapes) {
      feeds[encoderNamesIO.param(name)] = tensor(Float32Array.from(t.params[name]), shape);
      feeds[encoderNamesIO.m(name)] = tensor(new Float32Array(t.params[name].length), shape);
      feeds[encoderNamesIO.v(name)] = tensor(new Float32Array(t.params[name].length), shape);
    }
    feeds.dz = tensor(Float32Array.from(t.dz), [t.batch, t.heads * t.headDim]);
    feeds.adam_step_size = tensor(Float32Array.of(1e-3), [1]);
    feeds.adam_inv_sqrt_bc2 = tensor(Float32Array.of(1), [1]);
    const train = await createSession(buildEncoderGraph(cfg, { mode: "train", gradients: true }), { threads: 1 });
    const out = await train.run(feeds);
    for (const [name, want] of Object.entries(t.grads)) {
      const got = out[encoderNamesIO.grad(name)].data as Float32Array;
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-4 * (1 + scale), `${label} ONNX grad ${name}[${i}] ${got[i]} vs ${v}`));
    }
    await train.release();
  }
});
