/**
 * openDataset's benchmark specs (cifar10:, cifar100:, cifar100-20:, stl10:) on the CIFAR fixtures
 * (test/reference/cifar_fixtures.py), whose folder holds CIFAR-10 and CIFAR-100 side by side.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDataset } from "../../src/input/index.js";
import { SatcError, UsageError } from "../../src/errors.js";

const fixtures = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/encoders/cifar");

test("each CIFAR spec picks its own files from a folder holding both downloads", async () => {
  const exp = JSON.parse(await readFile(join(fixtures, "expected.json"), "utf8"));
  const c10 = await openDataset("cifar10:test", { dataDir: fixtures });
  assert.deepEqual([...c10.labels!], exp.cifar10.labels);
  const c100 = await openDataset("cifar100:test", { dataDir: fixtures });
  assert.deepEqual([...c100.labels!], exp.cifar100.fine);
  assert.equal(c100.classNames!.length, 100);
  const c20 = await openDataset("cifar100-20:test", { dataDir: fixtures });
  assert.deepEqual([...c20.labels!], exp.cifar100.coarse);
  assert.equal(c20.classNames!.length, 20);
});

test("specs without --data-dir, wrong folders and a CIFAR folder given as an image folder get clear errors", async () => {
  await assert.rejects(openDataset("cifar10:test"), (e: unknown) => e instanceof UsageError && /needs --data-dir/.test(e.message) && /cifar-10-batches-py/.test(e.message));
  await assert.rejects(openDataset("cifar100:test", { dataDir: join(fixtures, "cifar-10-batches-py") }), (e: unknown) => e instanceof SatcError && /no CIFAR-100 files/.test(e.message));
  await assert.rejects(openDataset("stl10:train", { dataDir: fixtures }), (e: unknown) => e instanceof SatcError && /STL-10/.test(e.message));
  await assert.rejects(openDataset(join(fixtures, "cifar-10-batches-py")), (e: unknown) => e instanceof UsageError && /use cifar10:train or cifar10:test/.test(e.message));
});
