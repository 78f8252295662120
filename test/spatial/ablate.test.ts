/**
 * `satc ablate` (runAblateCommand) on a tiny labelled image folder, its --variants parser, and the
 * library's rows (ablateViews): which views and loss pairs each row trains, shared neighbours.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import sharp from "sharp";
import { ablateCommand, parseVariants, runAblateCommand } from "../../src/cli/commands/ablate.js";
import { parseCommandLine } from "../../src/cli/args.js";
import { ablateViews, ablationSettings, formatTextLine, meanStd, settingLabel, summariseRuns, type AblationViews } from "../../src/spatial/ablate.js";
import { releaseSatc, trainSatc } from "../../src/spatial/method.js";
import { evaluateClustering } from "../../src/evaluation/metrics.js";
import { UsageError } from "../../src/errors.js";
import { Random } from "../../src/util/random.js";
import type { CliContext } from "../../src/cli/context.js";

/** Two classes of 28x28 gray images: a bright left half or a bright top half, with noise. */
async function imageFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "satc-ablate-"));
  let seed = 1;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 60;
  for (const cls of ["left", "top"]) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < 40; i++) {
      const px = Buffer.alloc(28 * 28);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
        const on = cls === "left" ? x < 14 : y < 14;
        px[y * 28 + x] = Math.round((on ? 180 : 20) + noise());
      }
      await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, cls, `${i}.png`));
    }
  }
  return dir;
}

function context(): { ctx: CliContext; out: () => string } {
  let text = "";
  const stdout = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  return { ctx: { stdout, stderr: sink, progress: () => ({ onProgress() {}, done() {} }) }, out: () => text };
}

test("parseVariants: known names, no repeats", () => {
  assert.deepEqual(parseVariants("gat, none"), ["gat", "none"]);
  assert.throws(() => parseVariants("gat,gnn"), /expected one of .* for --variants but received 'gnn'|gnn/);
  assert.throws(() => parseVariants("gat,gat"), /twice/);
  assert.throws(() => parseVariants(","), /--variants/);
});

test("meanStd: sample standard deviation", () => {
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: Math.SQRT2 });
  assert.deepEqual(meanStd([5]), { mean: 5, std: 0 });
});

test("satc ablate: one table row per variant with mean ± std over seeds; --json gives every run", async () => {
  const dir = await imageFolder();
  try {
    const argv = [dir, "-k", "2", "--variants", "gat,none", "--seeds", "2", "--epochs", "2", "--no-cache", "--threads", "1", "--quiet"];
    const parsed = parseCommandLine(ablateCommand, argv);
    const { ctx, out } = context();
    assert.equal(await runAblateCommand(parsed.positionals, parsed.options, ctx), 0);
    const lines = out().trimEnd().split("\n");
    assert.match(lines[0], /n=80, encoder pixels \(weight-free baseline\), 2 seed\(s\) per row/);
    assert.match(lines[1], /^text view: not available: the pixels encoder has no text space/);
    assert.match(lines[2], /^variant\s+.*ACC\s+NMI\s+ARI\s+s\/run$/);
    assert.deepEqual(lines.slice(3).map((l) => l.split(/\s+/)[0]), ["gat", "none"]);
    for (const l of lines.slice(3)) assert.equal((l.match(/±/g) ?? []).length, 3, l);

    const j = context();
    const parsedJson = parseCommandLine(ablateCommand, [...argv.filter((a) => a !== "gat,none"), "--json"].map((a) => (a === "--variants" ? "--variants=none" : a)));
    assert.equal(await runAblateCommand(parsedJson.positionals, parsedJson.options, j.ctx), 0);
    const doc = JSON.parse(j.out());
    assert.equal(doc.runs.length, 2);
    assert.deepEqual(doc.runs.map((r: { seed: number }) => r.seed), [0, 1]);
    assert.equal(doc.summary[0].variant, "none");
    assert.equal(doc.summary[0].text, false);
    assert.deepEqual(doc.text, { mode: "off", tau: null, threshold: 0.33, selectorUses: null, unavailable: doc.text.unavailable, nouns: null });
    assert.match(doc.text.unavailable, /pixels encoder has no text space/);
    for (const r of doc.runs) assert.deepEqual([r.views, r.pairs], [["visual"], []]);
    for (const r of doc.runs) assert.ok(r.train.acc >= 0.5 && r.train.acc <= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * 60 items of 2 classes: a visual view (6-d), patch nodes (4 cells x 3 channels) and a text view
 * (4-d), each showing the class along its own axis, with seeded noise.
 */
function threeViews(noise = 1): { views: AblationViews; labels: Int32Array } {
  const rng = new Random(3);
  const n = 60;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const global = new Float32Array(n * 6), patches = new Float32Array(n * 4 * 3), text = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let j = 0; j < 6; j++) global[i * 6 + j] = (j === c ? 2 : 0) + 0.3 * noise * rng.normal();
    for (let j = 0; j < 12; j++) patches[i * 12 + j] = (j % 3 === c ? 1 : 0) + 0.3 * noise * rng.normal();
    for (let j = 0; j < 4; j++) text[i * 4 + j] = (j === 2 + c ? 1 : 0) + 0.2 * noise * rng.normal();
  }
  return {
    views: { global: { data: global, rows: n, cols: 6 }, patches: { data: patches, shape: [n, 4, 3] }, text: { data: text, rows: n, cols: 4 } },
    labels,
  };
}

test("ablateViews: '+ text' rows train the text head (views and pairs), others do not; table order is per variant, text first", async () => {
  const { views } = threeViews();
  const settings = ablationSettings(["gat", "none"], [true, false]);
  assert.deepEqual(settings.map(settingLabel), ["gat + text", "gat", "none + text", "none"]);
  const runs = await ablateViews(views, { k: 2, settings, seeds: 1, seed: 0, epochs: 2, threads: 1, method: { graphK: 2 } });
  const by = (label: string) => runs.find((r) => settingLabel(r) === label)!;
  assert.deepEqual(by("gat + text").views, ["visual", "spatial", "text"]);
  assert.deepEqual(by("gat + text").pairs, [["visual", "spatial"], ["visual", "text"], ["spatial", "text"]]);
  assert.deepEqual(by("gat").views, ["visual", "spatial"]);
  assert.deepEqual(by("none + text").pairs, [["visual", "text"]]);
  assert.deepEqual(by("none").views, ["visual"]);
  const summary = summariseRuns(runs, settings);
  assert.deepEqual(summary.map((s) => s.label), ["gat + text", "gat", "none + text", "none"]);
  assert.equal(summary[0].train, null, "no scoring given: nothing scored");
});

test("ablateViews: neighbours mined once give the same clustering as trainSatc mining them itself", async () => {
  // Noisy views and k = 4 clusters of 2 classes: the partition depends on every detail (another topK changes it).
  const { views, labels } = threeViews(5);
  const got: Int32Array[] = [];
  await ablateViews(views, { k: 4, settings: [{ variant: "mean", text: true }], seeds: 1, seed: 4, epochs: 3, threads: 1 }, {
    train: (p) => {
      got.push(p);
      const s = evaluateClustering(labels, p);
      return { acc: s.acc, nmi: s.nmi, ari: s.ari };
    },
  });
  const direct = await trainSatc({ global: views.global, patches: views.patches, text: views.text }, { clusters: 4, seed: 4, spatial: "mean", maxEpochs: 3, threads: 1 });
  await releaseSatc(direct.model);
  assert.deepEqual(got[0], direct.predictions);
});

test("ablateViews: text rows without a text view, or spatial variants without patch nodes, are usage errors", async () => {
  const { views } = threeViews();
  await assert.rejects(ablateViews({ ...views, text: null }, { k: 2, settings: [{ variant: "none", text: true }], seeds: 1, seed: 0 }), (e: unknown) => e instanceof UsageError && /text view/.test(e.message));
  await assert.rejects(ablateViews({ ...views, patches: null }, { k: 2, settings: [{ variant: "gcn", text: false }], seeds: 1, seed: 0 }), (e: unknown) => e instanceof UsageError && /'gcn' needs patch nodes/.test(e.message));
});

test("formatTextLine: tau and the selector's decision once; off and unavailable say so", () => {
  const base = { threshold: 0.33, unavailable: null, nouns: 10 };
  assert.equal(formatTextLine({ ...base, mode: "both", tau: 0.41234, selectorUses: true }), "text view: tau=0.412 (threshold 0.33) -> the selector uses it (label-free); rows with '+ text' train the text head");
  assert.match(formatTextLine({ ...base, mode: "auto", tau: 0.2, selectorUses: false }), /tau=0\.200 .* drops it .*--text auto/);
  assert.equal(formatTextLine({ ...base, mode: "off", tau: null, selectorUses: null }), "text view: off (--text off)");
  assert.match(formatTextLine({ ...base, mode: "off", tau: null, selectorUses: null, unavailable: "no text space" }), /not available: no text space/);
});
