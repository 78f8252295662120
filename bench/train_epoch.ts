/**
 * Epoch benchmark: one epoch of the single-view heads over the 60,000 Fashion-MNIST training
 * images (784-d: pixels/255, L2-normalised), satc vs PyTorch 1.13 CPU (bench/train_epoch.py),
 * both on 2 threads, batch 512 (117 steps), hidden 512, K=10, the same heads on both sides: twin
 * (default, what a single view trains in satc: two heads and TAC's two-head loss) or self (one
 * head). Neighbours: the same kind of random (60000, 50) table on both sides (the timing does not
 * depend on which items are neighbours).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/train_epoch.js [--threads 2] [--hidden 512] [--single-view twin|self] [--no-torch]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openFashionMnist } from "../src/input/fashionMnist.js";
import { Random } from "../src/util/random.js";
import { normalizeRows } from "../src/util/matrix.js";
import { trainHeads } from "../src/training/trainer.js";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const threads = Number(opt("threads", "2"));
const hidden = Number(opt("hidden", "512"));
// Checked by trainHeads (a UsageError naming singleView), before the PyTorch side runs.
const singleView = opt("single-view", "twin") as "twin" | "self";

const train = await openFashionMnist("train");
const n = train.ids.length;
const data = new Float32Array(n * 784);
for (let r = 0; r < n; r++) {
  const img = await train.loadImage(r);
  for (let j = 0; j < 784; j++) data[r * 784 + j] = img.data[j] / 255;
}
const x = normalizeRows({ data, rows: n, cols: 784 });
const rng = new Random(0);
const neighbors = Int32Array.from({ length: n * 50 }, () => rng.int(n));

let seconds = NaN;
await trainHeads([{ name: "visual", features: x, neighbors }], {
  clusters: 10, maxEpochs: 1, threads, seed: 0, hidden, singleView,
  onProgress: (e) => { if (e.stage === "train") seconds = e.seconds; },
});

let torch: number | undefined;
if (!args.includes("--no-torch")) {
  const script = fileURLToPath(new URL("../../bench/train_epoch.py", import.meta.url));
  const out = execFileSync("/usr/bin/python3", [script, "--threads", String(threads), "--hidden", String(hidden), "--heads", singleView], { encoding: "utf8" });
  torch = (JSON.parse(out.trim().split("\n").pop()!) as { seconds: number }).seconds;
}
console.log(`one epoch: Fashion-MNIST train (60,000 x 784), ${singleView === "twin" ? "twin heads" : "one head"}, batch 512 (117 steps), hidden ${hidden}, K=10, ${threads} threads`);
console.log("side      seconds  ms/step");
console.log(`satc     ${seconds.toFixed(2).padStart(8)} ${((1000 * seconds) / 117).toFixed(1).padStart(8)}`);
if (torch !== undefined) {
  console.log(`pytorch  ${torch.toFixed(2).padStart(8)} ${((1000 * torch) / 117).toFixed(1).padStart(8)}`);
  console.log(`ratio satc/pytorch ${(seconds / torch).toFixed(2)}`);
}
