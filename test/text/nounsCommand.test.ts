/**
 * `satc nouns build` through its run function (the lead registers it in src/cli/main.ts), on the
 * tiny CLIP of test/encoders/tinyModels.ts: a stopped build says how far it got, the same command
 * resumes, and bad actions or template counts are usage errors.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { parseCommandLine } from "../../src/cli/args.js";
import type { CliContext } from "../../src/cli/context.js";
import { nounsCommand, runNounsCommand } from "../../src/cli/commands/nouns.js";
import { UsageError } from "../../src/errors.js";
import { writeTinyClip } from "../encoders/tinyModels.js";

function context() {
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on("data", (c) => chunks.push(String(c)));
  const events: { stage: string; done?: number; message?: string }[] = [];
  const ctx: CliContext = { stdout, stderr: new PassThrough(), progress: () => ({ onProgress: (e) => events.push(e), done: () => undefined }) };
  return { ctx, text: () => chunks.join(""), events };
}

async function run(argv: string[]) {
  const parsed = parseCommandLine(nounsCommand, argv);
  const c = context();
  const code = await runNounsCommand(parsed.positionals, parsed.options, c.ctx);
  return { code, stdout: c.text(), events: c.events };
}

test("satc nouns build: stops at --max-nouns, resumes, reports prompts/s and the model", async () => {
  const root = await mkdtemp(join(tmpdir(), "satc-nouns-cli-"));
  try {
    await writeTinyClip(join(root, "models", "Xenova/clip-vit-base-patch32"));
    const common = ["build", "--model-dir", join(root, "models"), "--cache-dir", join(root, "cache"), "--threads", "1", "--templates", "2", "--batch-size", "50"];
    const first = await run([...common, "--max-nouns", "120", "--json"]);
    assert.equal(first.code, 0);
    const doc = JSON.parse(first.stdout);
    assert.equal(doc.complete, false);
    assert.equal(doc.done, 120);
    assert.equal(doc.nouns, 82192);
    assert.deepEqual(doc.templates, ["itap of a {}.", "a bad photo of the {}."]);
    assert.equal(doc.model.file, "onnx/text_model.onnx");
    assert.ok(doc.promptsPerSecond > 0);
    assert.ok(first.events.some((e) => e.stage === "nouns" && e.done === 100 && /prompts\/s, ETA/.test(e.message ?? "")));
    const second = await run([...common, "--max-nouns", "30"]);
    assert.match(second.stdout, /^noun bank stopped at 150 of 82192 nouns; run the same command again to resume\n/);
  } finally {
    await rm(root, { recursive: true });
  }
});

test("satc nouns: unknown action and template counts out of range are usage errors", async () => {
  await assert.rejects(run(["make"]), (e: unknown) => e instanceof UsageError && /unknown action 'make'.*expected 'build'/.test(e.message));
  assert.throws(() => parseCommandLine(nounsCommand, ["build", "--templates", "9"]), UsageError);
});
