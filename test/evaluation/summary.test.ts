import { test } from "node:test";
import assert from "node:assert/strict";
import { meanStd, summarizeScores } from "../../src/evaluation/summary.js";

test("mean and sample standard deviation over seeds, by hand", () => {
  // [0.5, 0.7]: mean 0.6, deviations ±0.1, sample variance (0.01 + 0.01) / (2 - 1) = 0.02.
  const s = summarizeScores([{ acc: 0.5, nmi: 0.2, ari: 0.1 }, { acc: 0.7, nmi: 0.2, ari: 0.3 }])!;
  assert.ok(Math.abs(s.mean.acc - 0.6) < 1e-15 && Math.abs(s.std.acc - Math.sqrt(0.02)) < 1e-15);
  assert.deepEqual([s.mean.nmi, s.std.nmi], [0.2, 0]);
  assert.ok(Math.abs(s.mean.ari - 0.2) < 1e-15 && Math.abs(s.std.ari - Math.sqrt(0.02)) < 1e-15);
  assert.equal(summarizeScores([]), null);
  assert.deepEqual(meanStd([4]), { mean: 4, std: 0 });
});
