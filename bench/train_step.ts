/**
 * Step-time benchmark: satc's fused ONNX training step vs PyTorch 1.13 CPU on the same shapes
 * (two heads, 512-d input, 512 anchors + 512 neighbours, K=10, hidden 512), both on 2 threads.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/train_step.js [--threads 2] [--steps 30] [--no-torch]
 *
 * Prints one table; the PyTorch side is bench/train_step.py run with /usr/bin/python3.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Random } from "../src/util/random.js";
import { initHead } from "../src/training/head.js";
import { TrainingStep } from "../src/training/step.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const threads = opt("threads", 2), steps = opt("steps", 30), dim = opt("dim", 512), batch = opt("batch", 512), K = opt("clusters", 10), hidden = opt("hidden", 512);

interface Timing { mean: number; median: number; min: number }

async function satcStep(): Promise<Timing> {
  const rng = new Random(0);
  const heads = [initHead(dim, hidden, K, rng), initHead(dim, hidden, K, rng)];
  const step = await TrainingStep.create(heads, {
    batch, threads, loss: { temperature: 0.5, consistWeight: 1, entropyWeight: 5, pairs: [[0, 1]] },
  });
  const inputs = heads.map(() => {
    const x = Float32Array.from({ length: 2 * batch * dim }, () => rng.normal());
    for (let i = 0; i < 2 * batch; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
      for (let j = 0; j < dim; j++) x[i * dim + j] /= Math.sqrt(s);
    }
    return x;
  });
  for (let i = 0; i < 5; i++) await step.run(inputs);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step.run(inputs);
    times.push(performance.now() - t0);
  }
  await step.release();
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, median: times[times.length >> 1], min: times[0] };
}

function torchStep(): Timing | undefined {
  if (args.includes("--no-torch")) return undefined;
  const script = fileURLToPath(new URL("../../bench/train_step.py", import.meta.url));
  const out = execFileSync("/usr/bin/python3", [script, "--threads", String(threads), "--steps", String(steps), "--dim", String(dim), "--batch", String(batch), "--clusters", String(K), "--hidden", String(hidden)], { encoding: "utf8" });
  const r = JSON.parse(out.trim().split("\n").pop()!) as { msPerStep: number; msMedian: number; msMin: number };
  return { mean: r.msPerStep, median: r.msMedian, min: r.msMin };
}

const loadBefore = (await import("node:os")).loadavg();
const s = await satcStep();
const t = torchStep();
const f = (x: number) => x.toFixed(1).padStart(8);
console.log(`train step: 2 heads, d=${dim}, hidden=${hidden}, ${batch} anchors + ${batch} neighbours, K=${K}, ${threads} threads, ${steps} steps`);
const { loadavg } = await import("node:os");
console.log(`load average before: ${loadBefore.map((x) => x.toFixed(1)).join(" ")}, after: ${loadavg().map((x) => x.toFixed(1)).join(" ")} (other processes share the cores: read the min column)`);
console.log("side        mean ms  median ms    min ms");
console.log(`satc       ${f(s.mean)}  ${f(s.median)}  ${f(s.min)}`);
if (t) {
  console.log(`pytorch    ${f(t.mean)}  ${f(t.median)}  ${f(t.min)}`);
  console.log(`ratio satc/pytorch   ${f(s.mean / t.mean)}  ${f(s.median / t.median)}  ${f(s.min / t.min)}`);
}
