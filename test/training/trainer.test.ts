/** trainHeads / predictWithHeads on small synthetic data (seconds). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Random } from "../../src/util/random.js";
import type { Matrix } from "../../src/util/matrix.js";
import { mineNeighbors } from "../../src/clustering/neighbors.js";
import { predictWithHeads, trainHeads, twinName, type TrainProgress, type View, type ViewEncoder } from "../../src/training/trainer.js";

/** n points around `k` random unit centres in d dimensions; labels (n). */
function blobs(rng: Random, n: number, k: number, d: number, noise: number): { x: Matrix; labels: Int32Array } {
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal()));
  const x = new Float32Array(n * d), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % k;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[labels[i]][j] + noise * rng.normal();
  }
  return { x: { data: x, rows: n, cols: d }, labels };
}

/** Best-permutation accuracy for small k (brute force over permutations). */
function accuracy(labels: Int32Array, pred: Int32Array, k: number): number {
  const perms = (a: number[]): number[][] => (a.length <= 1 ? [a] : a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p])));
  let best = 0;
  for (const p of perms(Array.from({ length: k }, (_, i) => i))) {
    let hit = 0;
    for (let i = 0; i < labels.length; i++) if (p[pred[i]] === labels[i]) hit++;
    best = Math.max(best, hit / labels.length);
  }
  return best;
}

const small = { clusters: 4, batchSize: 64, hidden: 32, topK: 10, threads: 1 } as const;

test("one view: the heads separate well-separated blobs; progress per epoch; deterministic for a seed", async () => {
  const { x, labels } = blobs(new Random(1), 400, 4, 16, 0.3);
  const events: TrainProgress[] = [];
  const a = await trainHeads([{ name: "visual", features: x }], { ...small, maxEpochs: 40, seed: 3, onProgress: (e) => { if (e.stage === "train") events.push(e); } });
  assert.ok(accuracy(labels, a.predictions, 4) > 0.95, `accuracy ${accuracy(labels, a.predictions, 4)}`);
  assert.equal(events.length, a.epochs);
  assert.deepEqual(events.map((e) => e.epoch), Array.from({ length: a.epochs }, (_, i) => i + 1));
  assert.ok(events.every((e) => Number.isFinite(e.loss) && e.seconds >= 0));
  assert.ok(a.history[a.history.length - 1].loss < a.history[0].loss, "loss decreases");
  for (let i = 0; i < 400; i++) assert.ok(a.confidence[i] >= 0.25 && a.confidence[i] <= 1);
  const b = await trainHeads([{ name: "visual", features: x }], { ...small, maxEpochs: 40, seed: 3 });
  assert.deepEqual(b.history.map((h) => h.loss), a.history.map((h) => h.loss));
  assert.deepEqual(b.predictions, a.predictions);
  const c = await trainHeads([{ name: "visual", features: x }], { ...small, maxEpochs: 2, seed: 4 });
  assert.notDeepEqual(c.history[0].loss, a.history[0].loss);
});

test("one view trains twin heads: exactly TAC's two-head loss over two copies of the view; 'self' trains one head", async () => {
  const { x, labels } = blobs(new Random(6), 320, 4, 12, 0.3);
  const opts = { ...small, maxEpochs: 40, seed: 5 };
  const twin = await trainHeads([{ name: "visual", features: x }], opts);
  assert.deepEqual(twin.model.views, [{ name: "visual", inDim: 12 }, { name: twinName("visual"), inDim: 12 }]);
  assert.equal(twin.model.predictView, "visual");
  // The same training spelled out: the view and its copy (same neighbours), paired.
  const neighbors = await mineNeighbors(x, 10, { threads: 1 });
  const spelled = await trainHeads(
    [{ name: "visual", features: x, neighbors }, { name: twinName("visual"), features: x, neighbors }],
    { ...opts, pairs: [["visual", twinName("visual")]] },
  );
  assert.deepEqual(spelled.history.map((h) => h.loss), twin.history.map((h) => h.loss));
  assert.deepEqual(spelled.predictions, twin.predictions);
  // The loss has two Distill terms and two entropies (one per head): about twice one head's.
  const self = await trainHeads([{ name: "visual", features: x }], { ...opts, singleView: "self" });
  assert.deepEqual(self.model.views, [{ name: "visual", inDim: 12 }]);
  assert.ok(twin.history[0].entropy > 1.5 * self.history[0].entropy, `entropy ${twin.history[0].entropy} vs ${self.history[0].entropy}`);
  assert.ok(accuracy(labels, twin.predictions, 4) > 0.95, `accuracy ${accuracy(labels, twin.predictions, 4)}`);
  await assert.rejects(trainHeads([{ name: "visual", features: x }], { ...opts, singleView: "both" as "twin" }), /expected 'twin' or 'self' for singleView but received 'both'/);
  const enc = new LinearEncoder(x, 6, new Random(1));
  await assert.rejects(trainHeads([{ name: "spatial", features: x, encoder: enc }], opts), /trainable encoder: a single such view trains with singleView 'self'/);
});

test("early stopping: stops once `patience` epochs pass without a new lowest epoch loss", async () => {
  const { x } = blobs(new Random(2), 256, 4, 8, 0.5);
  const r = await trainHeads([{ name: "visual", features: x }], { ...small, maxEpochs: 60, patience: 2, seed: 0 });
  const losses = r.history.map((h) => h.loss);
  // Replay the rule on the recorded history: it must stop exactly where the rule says.
  let best = Infinity, since = 0, stopAt = losses.length;
  for (let i = 0; i < losses.length; i++) {
    if (losses[i] < best) { best = losses[i]; since = 0; } else if (++since >= 2) { stopAt = i + 1; break; }
  }
  assert.equal(r.epochs, stopAt);
  assert.ok(r.epochs < 60 || since < 2);
});

test("predictWithHeads scores another split with BatchNorm in inference mode", async () => {
  const rng = new Random(5);
  const all = blobs(rng, 600, 4, 16, 0.3);
  const train: Matrix = { data: all.x.data.subarray(0, 400 * 16), rows: 400, cols: 16 };
  const testX: Matrix = { data: all.x.data.subarray(400 * 16), rows: 200, cols: 16 };
  const r = await trainHeads([{ name: "visual", features: train }], { ...small, maxEpochs: 40, seed: 1 });
  const p = await predictWithHeads(r.model, [{ name: "visual", features: testX }], { threads: 1 });
  assert.equal(p.predictions.length, 200);
  assert.ok(accuracy(all.labels.subarray(400), p.predictions, 4) > 0.95);
  // Scoring the training split reproduces the trainer's own predictions.
  const again = await predictWithHeads(r.model, [{ name: "visual", features: train }], { threads: 1 });
  assert.deepEqual(again.predictions, r.predictions);
  await assert.rejects(predictWithHeads(r.model, [{ name: "spatial", features: testX }]), /needs the view 'visual'/);
});

/** A trainable linear encoder y = x A (d -> out), updated by plain SGD, recording its calls. */
class LinearEncoder implements ViewEncoder {
  readonly calls: string[] = [];
  private last?: Int32Array;
  readonly a: Float32Array;
  constructor(private readonly x: Matrix, readonly outDim: number, rng: Random) {
    this.a = Float32Array.from({ length: x.cols * outDim }, () => rng.normal() / Math.sqrt(x.cols));
  }
  async forward(indices: Int32Array, mode: "train" | "eval"): Promise<Matrix> {
    this.calls.push(`forward:${mode}:${indices.length}`);
    if (mode === "train") this.last = indices;
    const d = this.x.cols, o = this.outDim, out = new Float32Array(indices.length * o);
    for (let r = 0; r < indices.length; r++) {
      for (let j = 0; j < o; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += this.x.data[indices[r] * d + c] * this.a[c * o + j];
        out[r * o + j] = s;
      }
    }
    return { data: out, rows: indices.length, cols: o };
  }
  async backward(g: Matrix): Promise<void> {
    this.calls.push(`backward:${g.rows}x${g.cols}`);
    const d = this.x.cols, o = this.outDim, idx = this.last!;
    assert.equal(g.rows, idx.length);
    for (let r = 0; r < idx.length; r++) {
      for (let c = 0; c < d; c++) {
        const xv = this.x.data[idx[r] * d + c];
        for (let j = 0; j < o; j++) this.a[c * o + j] -= 0.05 * xv * g.data[r * o + j];
      }
    }
  }
}

test("two views, one with a trainable encoder in front of its head: forward/backward per step, encoder learns", async () => {
  const rng = new Random(9);
  const { x, labels } = blobs(rng, 320, 4, 12, 0.3);
  const enc = new LinearEncoder(x, 6, rng);
  const before = enc.a.slice();
  const views: View[] = [{ name: "visual", features: x }, { name: "spatial", features: x, encoder: enc }];
  const r = await trainHeads(views, { ...small, maxEpochs: 40, seed: 2 });
  const steps = Math.floor(320 / 64) * r.epochs;
  assert.equal(enc.calls.filter((c) => c === "forward:train:128").length, steps);
  assert.equal(enc.calls.filter((c) => c === "backward:128x6").length, steps);
  assert.notDeepEqual(enc.a, before, "encoder weights changed");
  assert.deepEqual(r.model.views, [{ name: "visual", inDim: 12 }, { name: "spatial", inDim: 6 }]);
  assert.ok(accuracy(labels, r.predictions, 4) > 0.9, `accuracy ${accuracy(labels, r.predictions, 4)}`);
  // The spatial head alone can predict too, through its encoder in eval mode.
  const p = await predictWithHeads({ ...r.model, predictView: "spatial" }, views, { threads: 1 });
  assert.ok(enc.calls.includes("forward:eval:320"));
  assert.ok(accuracy(labels, p.predictions, 4) > 0.9);
});

test("trainHeads validates its options by name", async () => {
  const { x } = blobs(new Random(1), 20, 2, 3, 0.1);
  await assert.rejects(trainHeads([{ name: "visual", features: x }], { clusters: 1 }), /clusters/);
  await assert.rejects(trainHeads([{ name: "visual", features: x }], { clusters: 2, topK: 50 }), /topK=50 .* n_samples >= 51/);
  await assert.rejects(trainHeads([{ name: "visual", features: x }], { clusters: 2, topK: 5, pairs: [["visual", "text"]] }), /'text'/);
});
