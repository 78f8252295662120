/**
 * Design measurement behind step-graph.ts: the fused one-graph step vs the per-operation
 * alternative (one ONNX session per GEMM, element-wise work in JavaScript), on the benchmark
 * shapes (two heads, 512-d, 512 anchors + 512 neighbours, hidden 512, K=10).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/train_ops.js [--threads 2] [--reps 20]
 *
 * The per-operation side is a lower bound: its 10 GEMM runs per step (5 per head) plus tight
 * float32 JS loops for BatchNorm forward/backward and Adam (softmax and the losses, on 1024 x 10,
 * are left out).
 */
import { createSession, tensor } from "../src/onnx/session.js";
import { Random } from "../src/util/random.js";
import { initHead } from "../src/training/head.js";
import { TrainingStep } from "../src/training/step.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const threads = opt("threads", 2), reps = opt("reps", 20);
const N = 1024, D = 512, H = 512, K = 10;
const rng = new Random(0);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.05);

async function time(f: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < 3; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

function gemmSession(m: number, k: number, n: number, transA: number, transB: number) {
  const a = transA ? [k, m] : [m, k], b = transB ? [n, k] : [k, n];
  return createSession({
    inputs: [{ name: "a", type: "float", shape: a }, { name: "b", type: "float", shape: b }],
    outputs: [{ name: "c", type: "float", shape: [m, n] }],
    nodes: [{ op: "Gemm", inputs: ["a", "b"], outputs: ["c"], attributes: { transA, transB } }],
  }, { threads }).then((s) => ({ s, a: rand(a[0] * a[1]), b: rand(b[0] * b[1]), ad: a, bd: b }));
}

// Per head: x W1^T, r W2^T, dz2 W2, dz2^T r, dz1^T x.
const gemms = await Promise.all([
  gemmSession(N, D, H, 0, 1), gemmSession(N, H, K, 0, 1), gemmSession(N, K, H, 0, 0), gemmSession(K, N, H, 1, 0), gemmSession(H, N, D, 1, 0),
]);
const tGemm = 2 * (await time(async () => {
  for (const g of gemms) await g.s.run({ a: tensor(g.a, g.ad), b: tensor(g.b, g.bd) });
}));

// JS element-wise: BatchNorm forward + backward on (2, 512, 512), Adam over one head's parameters.
const z = rand(N * H), dy = rand(N * H), xhat = new Float32Array(N * H), dz = new Float32Array(N * H);
const gamma = new Float32Array(H).fill(1);
function batchNormJs(): void {
  for (let half = 0; half < 2; half++) {
    const o = half * 512 * H;
    const mean = new Float32Array(H), v = new Float32Array(H), a = new Float32Array(H), b = new Float32Array(H);
    for (let i = 0; i < 512; i++) for (let j = 0; j < H; j++) mean[j] += z[o + i * H + j];
    for (let j = 0; j < H; j++) mean[j] /= 512;
    for (let i = 0; i < 512; i++) for (let j = 0; j < H; j++) { const c = z[o + i * H + j] - mean[j]; v[j] += c * c; }
    for (let j = 0; j < H; j++) v[j] = 1 / Math.sqrt(v[j] / 512 + 1e-5);
    for (let i = 0; i < 512; i++) for (let j = 0; j < H; j++) xhat[o + i * H + j] = (z[o + i * H + j] - mean[j]) * v[j];
    for (let i = 0; i < 512; i++) for (let j = 0; j < H; j++) { const g = dy[o + i * H + j] * gamma[j]; a[j] += g; b[j] += g * xhat[o + i * H + j]; }
    for (let i = 0; i < 512; i++) for (let j = 0; j < H; j++) {
      dz[o + i * H + j] = v[j] * (dy[o + i * H + j] * gamma[j] - a[j] / 512 - xhat[o + i * H + j] * b[j] / 512);
    }
  }
}
const P = H * D + H * K + 3 * H + K;
const p = rand(P), g = rand(P), m = new Float32Array(P), s = new Float32Array(P);
function adamJs(): void {
  for (let i = 0; i < P; i++) {
    m[i] = 0.9 * m[i] + 0.1 * g[i];
    s[i] = 0.99 * s[i] + 0.01 * g[i] * g[i];
    p[i] -= (1e-3 * m[i]) / (Math.sqrt(s[i]) * 10 + 1e-8);
  }
}
const tJs = 2 * ((await time(batchNormJs)) + (await time(adamJs)));

const heads = [initHead(D, H, K, rng), initHead(D, H, K, rng)];
const step = await TrainingStep.create(heads, { batch: 512, threads, loss: { temperature: 0.5, consistWeight: 1, entropyWeight: 5, pairs: [[0, 1]] } });
const inputs = heads.map(() => rand(N * D));
const tFused = await time(async () => { await step.run(inputs); });

console.log(`training step design, 2 heads, ${threads} threads, mean of ${reps}`);
console.log("variant                                   ms/step");
console.log(`fused graph (one session.run)            ${tFused.toFixed(1).padStart(7)}`);
console.log(`per-op: 10 GEMM sessions                 ${tGemm.toFixed(1).padStart(7)}`);
console.log(`per-op: + JS BatchNorm fwd/bwd and Adam  ${(tGemm + tJs).toFixed(1).padStart(7)}  (lower bound)`);
