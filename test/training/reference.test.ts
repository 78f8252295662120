/**
 * Gradient checks of the float64 reference layers and losses (src/training/reference.ts)
 * against central finite differences, and one full reference step against PyTorch.
 *
 * Finite differences: objective f = sum(R * output) with a fixed random R, step h = 1e-6,
 * tolerance |analytic - numeric| <= 1e-7 + 1e-5 |numeric| for every input element.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import {
  adamUpdate, batchEntropy, batchNormBackward, batchNormForward, consistLoss, distillLoss, HEAD_PARAMS,
  linearBackward, linearForward, mat64, referenceStep, reluBackward, reluForward, softmaxBackward, softmaxForward,
  headPredict, type HeadParamName, type Mat64,
} from "../../src/training/reference.js";
import { head64, maxViolation, randomMat, randomProbs, readStepFixture } from "./helpers.js";

const H = 1e-6;

/** Numeric gradient of the scalar f with respect to every element of x (x is restored). */
function numericGrad(x: Float64Array, f: () => number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + H;
    const up = f();
    x[i] = keep - H;
    const down = f();
    x[i] = keep;
    g[i] = (up - down) / (2 * H);
  }
  return g;
}

function dot(a: Mat64, r: Mat64): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * r.data[i];
  return s;
}

function assertClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string): void {
  const v = maxViolation(analytic, numeric, 1e-7, 1e-5);
  assert.ok(v <= 1, `${what}: analytic and finite-difference gradients differ (violation ${v.toFixed(2)} > 1)`);
}

test("Linear backward matches finite differences for x, W and b", () => {
  const rng = new Random(1);
  const x = randomMat(rng, 5, 4), w = randomMat(rng, 3, 4), b = randomMat(rng, 1, 3).data, R = randomMat(rng, 5, 3);
  const f = () => dot(linearForward(x, w, b), R);
  const g = linearBackward(x, w, R);
  assertClose(g.dx.data, numericGrad(x.data, f), "dx");
  assertClose(g.dw.data, numericGrad(w.data, f), "dW");
  assertClose(g.db, numericGrad(b, f), "db");
});

test("BatchNorm1d (training mode) backward matches finite differences for x, gamma and beta", () => {
  const rng = new Random(2);
  const x = randomMat(rng, 6, 3, 2), gamma = randomMat(rng, 1, 3).data, beta = randomMat(rng, 1, 3).data, R = randomMat(rng, 6, 3);
  const f = () => dot(batchNormForward(x, gamma, beta).y, R);
  const g = batchNormBackward(R, gamma, batchNormForward(x, gamma, beta).cache);
  assertClose(g.dx.data, numericGrad(x.data, f), "dx");
  assertClose(g.dgamma, numericGrad(gamma, f), "dgamma");
  assertClose(g.dbeta, numericGrad(beta, f), "dbeta");
});

test("BatchNorm1d normalises with the biased batch variance", () => {
  const x = mat64(2, 1, [1, 3]);
  const { y } = batchNormForward(x, Float64Array.of(1), Float64Array.of(0), 0);
  assert.deepEqual(Array.from(y.data), [-1, 1]); // unbiased variance would give +-0.707
});

test("ReLU and Softmax backward match finite differences", () => {
  const rng = new Random(3);
  const x = randomMat(rng, 4, 5), R = randomMat(rng, 4, 5);
  const fr = () => dot(reluForward(x), R);
  assertClose(reluBackward(reluForward(x), R).data, numericGrad(x.data, fr), "relu dx");
  const fs = () => dot(softmaxForward(x), R);
  assertClose(softmaxBackward(softmaxForward(x), R).data, numericGrad(x.data, fs), "softmax dx");
});

test("Distill, Consist and batch Entropy gradients match finite differences", () => {
  const rng = new Random(4);
  const P = randomProbs(rng, 7, 3), Q = randomProbs(rng, 7, 3);
  for (const T of [0.5, 5]) {
    const d = distillLoss(P, Q, T);
    assertClose(d.dP.data, numericGrad(P.data, () => distillLoss(P, Q, T).loss), `distill dP T=${T}`);
    assertClose(d.dQ.data, numericGrad(Q.data, () => distillLoss(P, Q, T).loss), `distill dQ T=${T}`);
  }
  const c = consistLoss(P, Q);
  assertClose(c.dP.data, numericGrad(P.data, () => consistLoss(P, Q).loss), "consist dP");
  assertClose(c.dQ.data, numericGrad(Q.data, () => consistLoss(P, Q).loss), "consist dQ");
  const e = batchEntropy(P);
  assertClose(e.dP.data, numericGrad(P.data, () => batchEntropy(P).value), "entropy dP");
});

test("Distill is lowest when P and Q agree and symmetric in its arguments", () => {
  const rng = new Random(5);
  const P = randomProbs(rng, 16, 4), Q = randomProbs(rng, 16, 4);
  assert.ok(distillLoss(P, P, 0.5).loss < distillLoss(P, Q, 0.5).loss);
  assert.ok(Math.abs(distillLoss(P, Q, 0.5).loss - distillLoss(Q, P, 0.5).loss) < 1e-12);
});

test("one reference step (two heads, Adam, two steps) matches PyTorch in float64", () => {
  const fx = readStepFixture();
  const K = fx.clusters, hidden = fx.hidden, B = fx.batch;
  const heads = fx.views.map((v) => head64(fx.initial[v.name], v.dim, hidden, K));
  const anchors = fx.views.map((v) => mat64(B, v.dim, fx.inputs[v.name].anchor));
  const neighbors = fx.views.map((v) => mat64(B, v.dim, fx.inputs[v.name].neighbor));
  const moments = () => heads.map((h) => Object.fromEntries(HEAD_PARAMS.map((n) => [n, new Float64Array((h[n] instanceof Float64Array ? h[n] : h[n].data).length)])) as Record<HeadParamName, Float64Array>);
  const adam = { m: moments(), v: moments(), t: 0, options: { lr: fx.lr, beta1: fx.betas[0], beta2: fx.betas[1], eps: fx.eps } };
  const settings = { temperature: fx.temperature, consistWeight: fx.lambda1, entropyWeight: fx.lambda2, pairs: [[0, 1]] as [number, number][] };
  fx.steps.forEach((expected, s) => {
    const r = referenceStep(heads, anchors, neighbors, settings, adam);
    for (const part of ["loss", "distill", "consist", "entropy"] as const) {
      assert.ok(Math.abs(r[part] - expected[part]) < 1e-10, `step ${s} ${part}: ${r[part]} vs PyTorch ${expected[part]}`);
    }
    fx.views.forEach((v, vi) => {
      for (const name of HEAD_PARAMS) {
        const viol = maxViolation(r.grads[vi][name], expected.grads[v.name][name], 1e-10, 1e-7);
        assert.ok(viol <= 1, `step ${s} view ${v.name} grad ${name}: violation ${viol}`);
        const p = heads[vi][name];
        const viol2 = maxViolation(p instanceof Float64Array ? p : p.data, expected.after[v.name][name], 1e-10, 1e-8);
        assert.ok(viol2 <= 1, `step ${s} view ${v.name} updated ${name}: violation ${viol2}`);
      }
      assert.ok(maxViolation(heads[vi].runningMean, expected.after[v.name].runningMean, 1e-12, 1e-9) <= 1, "running mean");
      assert.ok(maxViolation(heads[vi].runningVar, expected.after[v.name].runningVar, 1e-12, 1e-9) <= 1, "running var");
    });
  });
  fx.views.forEach((v, vi) => {
    const p = headPredict(heads[vi], anchors[vi]);
    assert.ok(maxViolation(p.data, fx.eval[v.name], 1e-12, 1e-9) <= 1, `inference-mode probabilities of view ${v.name}`);
  });
});

test("adamUpdate follows torch.optim.Adam's bias-corrected update", () => {
  // Hand-computed: first step moves by lr * g / (|g| + eps) ~= lr * sign(g).
  const p = Float64Array.of(1, 1), m = new Float64Array(2), v = new Float64Array(2);
  adamUpdate(p, [0.5, -2], m, v, 1);
  assert.ok(Math.abs(p[0] - (1 - 1e-3 * 0.5 / (0.5 + 1e-8))) < 1e-15);
  assert.ok(Math.abs(p[1] - (1 + 1e-3 * 2 / (2 + 1e-8))) < 1e-15);
});
