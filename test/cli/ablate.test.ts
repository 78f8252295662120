/**
 * `satc ablate` with the text view, through its run function, on the tiny CLIP of
 * test/encoders/tinyModels.ts and the tiny 7x7 ResNet of test/run/spatialFixtures.ts (the spatial
 * view's nodes, as in satc cluster), loaded offline from --model-dir: rows with and without text
 * (--text both|on|off|auto), tau and the selector's decision printed once, the text rows trained
 * with the text head (their views and loss pairs), and the usage errors for encoders with no text
 * space.
 *
 * The noun bank: building all 82,192 WordNet nouns with the tiny text tower takes ~45 s
 * (test/text/chain.test.ts builds and checks a small one), so the test stores a stand-in bank of
 * seeded unit vectors under the exact feature-store key of the tiny tower, one template, and the
 * full noun list; the ablation then finds it in the cache as a second run would.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ablateCommand, runAblateCommand } from "../../src/cli/commands/ablate.js";
import { parseCommandLine } from "../../src/cli/args.js";
import type { CliContext } from "../../src/cli/context.js";
import { ClipEncoder } from "../../src/encoders/clip.js";
import { UsageError } from "../../src/errors.js";
import { FeatureStore } from "../../src/features/store.js";
import { nounBankKey, nounTemplates, textModelRecord } from "../../src/text/nounBank.js";
import { loadWordNetNouns } from "../../src/text/nouns.js";
import { Random } from "../../src/util/random.js";
import { writeTinyClip } from "../encoders/tinyModels.js";
import { CLIP, RESNET, photos as writePhotos, writeTinyResnet7x7 } from "../run/spatialFixtures.js";

const root = mkdtempSync(join(tmpdir(), "satc-ablate-text-"));
const models = join(root, "models");
const cache = join(root, "cache");
const photos = join(root, "photos");
// Nothing may be fetched, and nothing written outside the test's folder.
process.env.SATC_OFFLINE = "1";
process.env.SATC_CACHE = join(root, "user-cache");

/** The stand-in noun bank (see the file comment), stored where the ablation will look for it. */
async function storeNounBank(): Promise<void> {
  const clip = await ClipEncoder.load({ modelDir: models, parts: ["text"] });
  const model = await textModelRecord(clip);
  await clip.dispose();
  const nouns = await loadWordNetNouns();
  const n = nouns.lemmas.length, d = 8;
  const rng = new Random(9);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (data[i * d + j] = rng.normal()) ** 2;
    for (let j = 0; j < d; j++) data[i * d + j] /= Math.sqrt(s);
  }
  const key = nounBankKey(model, { source: nouns.source, version: nouns.version, sha256: nouns.sha256, n }, nounTemplates(1));
  await new FeatureStore(cache).put(key, { embeddings: { data, shape: [n, d] }, synsets: { data: Int32Array.from(nouns.offsets), shape: [n] } });
}

before(async () => {
  await Promise.all([writeTinyClip(join(models, CLIP)), writeTinyResnet7x7(join(models, RESNET))]);
  await Promise.all([writePhotos(photos), storeNounBank()]);
});
after(() => rmSync(root, { recursive: true, force: true }));

function context(): { ctx: CliContext; out: () => string } {
  let text = "";
  const stdout = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  return { ctx: { stdout, stderr: sink, progress: () => ({ onProgress() {}, done() {} }) }, out: () => text };
}

async function ablate(...args: string[]): Promise<string> {
  const parsed = parseCommandLine(ablateCommand, args);
  const { ctx, out } = context();
  assert.equal(await runAblateCommand(parsed.positionals, parsed.options, ctx), 0);
  return out();
}

const clipArgs = (variants = "none") =>
  [photos, "-k", "2", "--encoder", "clip", "--model-dir", models, "--cache-dir", cache, "--templates", "1", "--variants", variants, "--spatial-channels", "4", "--epochs", "2", "--threads", "1", "--quiet"];

interface Doc {
  spatialNodes: { name: string; channels: number; cells: number } | null;
  encoder: { name: string; models: { file: string; sha256: string }[] };
  text: { mode: string; tau: number | null; threshold: number; selectorUses: boolean | null; unavailable: string | null; nouns: number | null };
  summary: { label: string; variant: string; text: boolean }[];
  runs: { variant: string; text: boolean; seed: number; views: string[]; pairs: [string, string][]; train: { acc: number } | null }[];
}

test("clip, default --text (both): a row with and one without text per variant, tau and the decision once", async () => {
  const lines = (await ablate(...clipArgs("gat,none"), "--seeds", "2")).trimEnd().split("\n");
  assert.match(lines[0], /n=56, encoder clip, 2 seed\(s\) per row/);
  const m = /^text view: tau=(\d+\.\d{3}) \(threshold 0\.33\) -> the selector (uses|drops) it \(label-free\); rows with '\+ text' train the text head$/.exec(lines[1]);
  assert.ok(m, lines[1]);
  assert.equal(m[2], Number(m[1]) > 0.33 ? "uses" : "drops");
  assert.match(lines[2], /^variant\s+/);
  assert.deepEqual(lines.slice(3).map((l) => l.split(/\s{2,}/)[0]), ["gat + text", "gat", "none + text", "none"]);
  for (const l of lines.slice(3)) assert.equal((l.match(/±/g) ?? []).length, 3, l);
  assert.equal(lines.filter((l) => l.includes("tau=")).length, 1);
});

test("clip --json: text rows trained the text head (views, pairs), spatial rows on ResNet-50 nodes; the models are recorded", async () => {
  const doc = JSON.parse(await ablate(...clipArgs("gat,none"), "--seeds", "2", "--json")) as Doc;
  assert.equal(doc.text.mode, "both");
  assert.equal(typeof doc.text.tau, "number");
  assert.equal(doc.text.selectorUses, doc.text.tau! > 0.33);
  assert.equal(doc.text.nouns, 82192);
  assert.deepEqual(doc.summary.map((s) => s.label), ["gat + text", "gat", "none + text", "none"]);
  assert.equal(doc.runs.length, 8);
  const expected: Record<string, { views: string[]; pairs: string[][] }> = {
    "gat:true": { views: ["visual", "spatial", "text"], pairs: [["visual", "spatial"], ["visual", "text"], ["spatial", "text"]] },
    "gat:false": { views: ["visual", "spatial"], pairs: [["visual", "spatial"]] },
    "none:true": { views: ["visual", "text"], pairs: [["visual", "text"]] },
    "none:false": { views: ["visual"], pairs: [] },
  };
  for (const r of doc.runs) {
    assert.deepEqual({ views: r.views, pairs: r.pairs }, expected[`${r.variant}:${r.text}`], JSON.stringify(r));
    assert.ok(r.train && r.train.acc >= 0.5 && r.train.acc <= 1);
  }
  assert.deepEqual(doc.runs.map((r) => `${r.variant}:${r.text}:${r.seed}`), ["gat:true:0", "gat:true:1", "gat:false:0", "gat:false:1", "none:true:0", "none:true:1", "none:false:0", "none:false:1"]);
  assert.deepEqual(doc.spatialNodes && [doc.spatialNodes.name, doc.spatialNodes.cells, doc.spatialNodes.channels], ["resnet50", 49, 4]);
  const files = doc.encoder.models.map((x) => x.file);
  assert.ok(files.includes("onnx/vision_model.onnx") && files.includes("onnx/text_model.onnx"), files.join(", "));
});

test("clip --text on / off / auto: only text rows, no text (and no tau), or the selector's choice", async () => {
  const on = JSON.parse(await ablate(...clipArgs(), "--seeds", "1", "--text", "on", "--json")) as Doc;
  assert.deepEqual(on.summary.map((s) => s.label), ["none + text"]);
  assert.deepEqual(on.runs[0].views, ["visual", "text"]);
  assert.equal(typeof on.text.tau, "number");

  const off = await ablate(...clipArgs(), "--seeds", "1", "--text", "off");
  assert.match(off, /\ntext view: off \(--text off\)\n/);
  assert.deepEqual(off.trimEnd().split("\n").slice(3).map((l) => l.split(/\s{2,}/)[0]), ["none"]);

  const auto = JSON.parse(await ablate(...clipArgs(), "--seeds", "1", "--text", "auto", "--json")) as Doc;
  assert.equal(auto.text.tau, on.text.tau, "tau is computed once per input, whatever the rows");
  assert.deepEqual(auto.summary.map((s) => s.label), [auto.text.selectorUses ? "none + text" : "none"]);
  assert.deepEqual(auto.runs[0].views, auto.text.selectorUses ? ["visual", "text"] : ["visual"]);
});

test("--text on|both with an encoder that has no text space is a usage error naming the encoder, before any encoding", async () => {
  const missing = join(root, "no-such-folder");
  for (const [encoder, mode] of [["pixels", "both"], ["pixels", "on"], ["resnet50", "on"]] as const) {
    const parsed = parseCommandLine(ablateCommand, [missing, "-k", "2", "--encoder", encoder, "--text", mode, "--quiet"]);
    await assert.rejects(
      runAblateCommand(parsed.positionals, parsed.options, context().ctx),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(`--text ${mode}: the ${encoder} encoder has no text space`),
    );
  }
  assert.throws(() => parseCommandLine(ablateCommand, [photos, "-k", "2", "--text", "maybe"]), (e: unknown) => e instanceof UsageError && /--text/.test(e.message));
});
