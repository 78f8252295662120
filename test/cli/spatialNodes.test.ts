/**
 * `satc cluster --encoder clip --method heads --spatial gat` end to end through the CLI, offline on
 * tiny models (test/encoders/tinyModels.ts, test/run/spatialFixtures.ts): the spatial view's nodes
 * come from ResNet-50 (before, this combination stopped with "needs patch features"), and run.json
 * says so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunRecord } from "../../src/run/record.js";
import { writeTinyClip } from "../encoders/tinyModels.js";
import { CLIP, RESNET, photos, writeTinyResnet7x7 } from "../run/spatialFixtures.js";

const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

test("satc cluster --encoder clip --method heads --spatial gat --spatial-channels 4 trains on ResNet-50 nodes", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "satc-cli-nodes-"));
  const models = join(tmp, "models");
  await writeTinyClip(join(models, CLIP));
  await writeTinyResnet7x7(join(models, RESNET));
  const input = await photos(join(tmp, "photos"));
  const out = join(tmp, "run");
  const r = spawnSync(
    process.execPath,
    [cli, "cluster", input, "-k", "2", "--encoder", "clip", "--model-dir", models, "--method", "heads", "--spatial", "gat", "--spatial-channels", "4",
      "--text", "off", "--epochs", "2", "--patience", "2", "--out", out, "--no-report", "--json", "-q"],
    { encoding: "utf8", env: { ...process.env, SATC_CACHE: join(tmp, "cache"), SATC_OFFLINE: "1" } },
  );
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { n: number; out: string };
  assert.equal(doc.n, 56);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunRecord;
  assert.equal(record.options.spatial, "gat");
  assert.equal(record.spatialNodes?.name, "resnet50");
  assert.equal(record.spatialNodes?.models[0].id, RESNET);
  assert.equal(record.spatialNodes?.channels, 4);
  assert.equal(record.spatialNodes?.inChannels, 8);
  assert.equal(record.spatialNodes?.cells, 49);
  await rm(tmp, { recursive: true });
});
