/** Shared helpers of the training tests: fixtures, random matrices, comparisons. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Random } from "../../src/util/random.js";
import { mat64, type Head64, type Mat64 } from "../../src/training/reference.js";

/** Repository root (tests run from dist/test/training). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface StepFixtureHead {
  w1: number[]; b1: number[]; gamma: number[]; beta: number[]; w2: number[]; b2: number[];
  runningMean: number[]; runningVar: number[];
}
export interface StepFixture {
  batch: number; clusters: number; hidden: number; temperature: number; lambda1: number; lambda2: number;
  lr: number; betas: [number, number]; eps: number;
  views: { name: string; dim: number }[];
  inputs: Record<string, { anchor: number[]; neighbor: number[] }>;
  initial: Record<string, StepFixtureHead>;
  steps: {
    loss: number; distill: number; consist: number; entropy: number;
    grads: Record<string, Record<string, number[]>>;
    after: Record<string, StepFixtureHead>;
  }[];
  eval: Record<string, number[]>;
}

export function readStepFixture(): StepFixture {
  return JSON.parse(readFileSync(`${ROOT}test/fixtures/training/train_step.json`, "utf8")) as StepFixture;
}

export function head64(f: StepFixtureHead, inDim: number, hidden: number, K: number): Head64 {
  return {
    w1: mat64(hidden, inDim, f.w1), b1: Float64Array.from(f.b1), gamma: Float64Array.from(f.gamma),
    beta: Float64Array.from(f.beta), w2: mat64(K, hidden, f.w2), b2: Float64Array.from(f.b2),
    runningMean: Float64Array.from(f.runningMean), runningVar: Float64Array.from(f.runningVar),
  };
}

export function randomMat(rng: Random, rows: number, cols: number, scale = 1): Mat64 {
  const m = mat64(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = scale * rng.normal();
  return m;
}

/** Random rows on the probability simplex (softmax of normals), (rows, cols). */
export function randomProbs(rng: Random, rows: number, cols: number): Mat64 {
  const m = randomMat(rng, rows, cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += (m.data[i * cols + k] = Math.exp(m.data[i * cols + k]));
    for (let k = 0; k < cols; k++) m.data[i * cols + k] /= s;
  }
  return m;
}

/** Largest |a - b| / (atol + rtol * |b|); <= 1 means within tolerance. */
export function maxViolation(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) throw new RangeError(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(v <= worst)) worst = Number.isNaN(v) ? Infinity : v;
  }
  return worst;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
