/** `satc ablate` (runAblateCommand) on a tiny labelled image folder, and its --variants parser. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import sharp from "sharp";
import { ablateCommand, parseVariants, runAblateCommand } from "../../src/cli/commands/ablate.js";
import { parseCommandLine } from "../../src/cli/args.js";
import { meanStd } from "../../src/spatial/ablate.js";
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
