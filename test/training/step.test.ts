/**
 * The fused ONNX training step (src/training/step.ts) against PyTorch and against the float64
 * JS reference.
 *
 * PyTorch fixture: test/fixtures/training/train_step.json, written by
 * `/usr/bin/python3 test/reference/train_step.py` (torch 1.13, float64; two heads d=16 and d=12,
 * hidden 32, K=4, batch 8, two Adam steps). Our step runs in float32, so the tolerances are
 * float32 ones: loss parts within 2e-5 absolute; gradients within 2e-5 + 1e-3 relative; the
 * updated parameters within 2e-6 absolute (Adam's first steps move each weight by about lr=1e-3
 * times the sign of its gradient, except b1 whose gradient is zero in exact arithmetic (BatchNorm
 * removes it) and float32 round-off, so b1 is allowed one lr); running statistics 1e-6 + 1e-5 rel.
 * (the running mean from the second step on within 0.19 * 2 lr, as it sees b1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import { TRAINABLE, cloneHead, headProbabilities, initHead, type HeadParams } from "../../src/training/head.js";
import { TrainingStep } from "../../src/training/step.js";
import { HEAD_PARAMS, mat64, referenceStep, type Head64, type HeadParamName, type LossSettings } from "../../src/training/reference.js";
import { maxAbsDiff, maxViolation, readStepFixture, type StepFixtureHead } from "./helpers.js";

function fromFixture(f: StepFixtureHead, inDim: number, hidden: number, clusters: number): HeadParams {
  const F = (a: number[]) => Float32Array.from(a);
  return {
    inDim, hidden, clusters, w1: F(f.w1), b1: F(f.b1), gamma: F(f.gamma), beta: F(f.beta), w2: F(f.w2), b2: F(f.b2),
    runningMean: F(f.runningMean), runningVar: F(f.runningVar),
  };
}

function to64(h: HeadParams): Head64 {
  const D = (a: Float32Array) => Float64Array.from(a);
  return {
    w1: mat64(h.hidden, h.inDim, h.w1), b1: D(h.b1), gamma: D(h.gamma), beta: D(h.beta), w2: mat64(h.clusters, h.hidden, h.w2),
    b2: D(h.b2), runningMean: D(h.runningMean), runningVar: D(h.runningVar),
  };
}

test("the ONNX step matches PyTorch's loss, gradients, Adam updates and running statistics (two steps)", async () => {
  const fx = readStepFixture();
  const B = fx.batch;
  const heads = fx.views.map((v) => fromFixture(fx.initial[v.name], v.dim, fx.hidden, fx.clusters));
  const step = await TrainingStep.create(heads, {
    batch: B, gradients: true, threads: 1,
    loss: { temperature: fx.temperature, consistWeight: fx.lambda1, entropyWeight: fx.lambda2, pairs: [[0, 1]] },
    adam: { lr: fx.lr, beta1: fx.betas[0], beta2: fx.betas[1], eps: fx.eps },
  });
  const inputs = fx.views.map((v) => Float32Array.from([...fx.inputs[v.name].anchor, ...fx.inputs[v.name].neighbor]));
  for (const [s, expected] of fx.steps.entries()) {
    const r = await step.run(inputs);
    for (const part of ["loss", "distill", "consist", "entropy"] as const) {
      assert.ok(Math.abs(r[part] - expected[part]) < 2e-5, `step ${s} ${part}: ${r[part]} vs PyTorch ${expected[part]}`);
    }
    fx.views.forEach((v, vi) => {
      for (const p of TRAINABLE) {
        const gv = maxViolation(r.gradients![vi][p], expected.grads[v.name][p], 2e-5, 1e-3);
        assert.ok(gv <= 1, `step ${s} view ${v.name} gradient ${p}: violation ${gv.toFixed(2)}`);
        const tol = p === "b1" ? 1.01e-3 * (s + 1) : 2e-6;
        const d = maxAbsDiff(heads[vi][p], expected.after[v.name][p]);
        assert.ok(d <= tol, `step ${s} view ${v.name} updated ${p}: max difference ${d} > ${tol}`);
      }
      // The running mean sees b1, so from the second step on it inherits b1's float32 noise
      // (weight 0.1 + 0.09 on the second step's shift of at most 2 lr).
      const meanTol = s === 0 ? 1e-6 : 0.19 * 2.02e-3;
      const dm = maxAbsDiff(heads[vi].runningMean, expected.after[v.name].runningMean);
      assert.ok(dm <= meanTol, `step ${s} view ${v.name} running mean: max difference ${dm} > ${meanTol}`);
      assert.ok(maxViolation(heads[vi].runningVar, expected.after[v.name].runningVar, 1e-6, 1e-5) <= 1, "running var");
    });
  }
  await step.release();
  // Inference mode (running statistics): PyTorch's parameters after the two steps, model.eval().
  const last = fx.steps[fx.steps.length - 1].after;
  for (const v of fx.views) {
    const x = { data: Float32Array.from(fx.inputs[v.name].anchor), rows: B, cols: v.dim };
    const probs = await headProbabilities(fromFixture(last[v.name], v.dim, fx.hidden, fx.clusters), x, { threads: 1 });
    const d = maxAbsDiff(probs.data, fx.eval[v.name]);
    assert.ok(d < 1e-6, `eval probabilities of ${v.name}: max difference ${d}`);
  }
});

async function compareWithReference(dims: number[], settings: LossSettings, inputGradients: boolean[], seed: number): Promise<void> {
  const rng = new Random(seed);
  const B = 6, K = 3, hidden = 8;
  const heads = dims.map((d) => {
    const h = initHead(d, hidden, K, rng);
    for (const p of ["w1", "w2"] as const) h[p] = h[p].map((x) => x * 20); // less uniform predictions
    return h;
  });
  const ref = heads.map((h) => to64(cloneHead(h)));
  const inputs = dims.map((d) => Float32Array.from({ length: 2 * B * d }, () => rng.normal()));
  const zeros = () => ref.map((h) => Object.fromEntries(HEAD_PARAMS.map((p) => [p, new Float64Array((h[p] instanceof Float64Array ? h[p] : h[p].data).length)])) as Record<HeadParamName, Float64Array>);
  const adam = { m: zeros(), v: zeros(), t: 0 };
  const step = await TrainingStep.create(heads, { batch: B, loss: settings, inputGradients, gradients: true, threads: 1 });
  for (let s = 0; s < 3; s++) {
    const r = await step.run(inputs);
    const anchors = dims.map((d, v) => mat64(B, d, inputs[v].subarray(0, B * d)));
    const neighbors = dims.map((d, v) => mat64(B, d, inputs[v].subarray(B * d)));
    const e = referenceStep(ref, anchors, neighbors, settings, adam);
    assert.ok(Math.abs(r.loss - e.loss) < 1e-4, `step ${s}: loss ${r.loss} vs reference ${e.loss}`);
    dims.forEach((d, v) => {
      for (const p of TRAINABLE) {
        const gv = maxViolation(r.gradients![v][p], e.grads[v][p], 2e-5, 2e-3);
        assert.ok(gv <= 1, `step ${s} view ${v} gradient ${p}: violation ${gv.toFixed(2)}`);
      }
      if (inputGradients[v]) {
        const expected = [...e.dAnchorInput[v].data, ...e.dNeighborInput[v].data];
        assert.ok(maxViolation(r.inputGradients[v]!, expected, 2e-5, 2e-3) <= 1, `step ${s} view ${v} dL/dx`);
      } else {
        assert.equal(r.inputGradients[v], undefined);
      }
      assert.ok(maxAbsDiff(heads[v].w2, ref[v].w2.data) < 1e-5, `step ${s} view ${v} updated w2`);
    });
  }
  await step.release();
}

test("the ONNX step matches the float64 reference: one view, single-view loss (pair (0, 0))", async () => {
  await compareWithReference([5], { temperature: 0.5, consistWeight: 1, entropyWeight: 5, pairs: [[0, 0]] }, [true], 11);
});

test("the ONNX step matches the float64 reference: three views, three pairs, T=5, input gradients for one view", async () => {
  await compareWithReference([5, 4, 7], { temperature: 5, consistWeight: 0.7, entropyWeight: 2, pairs: [[0, 1], [0, 2], [1, 2]] }, [false, true, false], 12);
});
