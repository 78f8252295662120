import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../../src/errors.js";
import { checkTextMode, clusterCompactness, decideText, textCompactness } from "../../src/text/selector.js";

/**
 * Ten far-apart clusters of two points c_k +- r_k e_11 in R^12 (c_k = 10 e_k): each member is
 * r_k from its centre, so tau = mean of r_k^2 exactly, whatever k-means' cluster order.
 */
function pairs(radii: number[]) {
  const d = 12;
  const data = new Float32Array(radii.length * 2 * d);
  radii.forEach((r, k) => {
    for (const [s, sign] of [[0, 1], [1, -1]]) {
      const o = (2 * k + s) * d;
      data[o + k] = 10;
      data[o + 11] = sign * r;
    }
  });
  const tau = radii.reduce((a, r) => a + r * r, 0) / radii.length;
  return { x: { data, rows: radii.length * 2, cols: d }, tau };
}

test("tau = mean over clusters of the mean squared distance to the centre (hand-computed)", async () => {
  const radii = [0.25, 0.5, 0.75, 1, 0.125, 0.375, 0.625, 0.875, 0.5, 0.25];
  const { x, tau } = pairs(radii);
  const d = await textCompactness(x, { threads: 1 });
  assert.ok(Math.abs(d.tau - tau) < 1e-6, `tau ${d.tau} vs ${tau}`);
  assert.deepEqual([...d.perCluster].sort((a, b) => a - b).map((v) => +v.toFixed(6)), radii.map((r) => +(r * r).toFixed(6)).sort((a, b) => a - b));
  assert.equal(d.threshold, 0.33);
  assert.equal(d.used, tau > 0.33);
  assert.equal(d.clusters, 10);
  assert.equal(d.seed, 0);
});

test("the selector flips exactly at the threshold: used iff tau > threshold under auto", async () => {
  assert.equal(decideText(0.33), false);
  assert.equal(decideText(0.33 + Number.EPSILON), true);
  assert.equal(decideText(0.3299999), false);
  assert.equal(decideText(0.1, "on"), true);
  assert.equal(decideText(0.9, "off"), false);
  // Through textCompactness: threshold equal to tau -> not used; a hair below -> used.
  const { x } = pairs([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  const at = await textCompactness(x, { threads: 1 });
  const exact = at.tau;
  assert.equal((await textCompactness(x, { threshold: exact, threads: 1 })).used, false);
  assert.equal((await textCompactness(x, { threshold: exact * (1 - 1e-12), threads: 1 })).used, true);
  const forced = await textCompactness(x, { mode: "on", threshold: 10, threads: 1 });
  assert.equal(forced.used, true);
  assert.equal(forced.tau, exact, "tau is reported whatever the mode");
  assert.equal((await textCompactness(x, { mode: "off", threshold: -1, threads: 1 })).used, false);
});

test("fewer samples than K_t: clusters lowered with a warning; bad modes name the option", async () => {
  const x = { data: Float32Array.of(0, 1, 1, 0, 1, 1), rows: 3, cols: 2 };
  const d = await textCompactness(x, { threads: 1 });
  assert.equal(d.clusters, 3);
  assert.equal(d.tau, 0);
  assert.match(d.warnings[0], /3 samples are fewer than K_t=10/);
  assert.throws(() => checkTextMode("maybe"), (e: unknown) => e instanceof UsageError && e.message === "expected one of auto, on, off for --text but received 'maybe'");
  const c = clusterCompactness({ data: Float32Array.of(0, 2, 5, 5), rows: 4, cols: 1 }, Int32Array.of(0, 0, 2, 2), 3);
  assert.deepEqual(c.perCluster, [1, 0]); // cluster 1 is empty and skipped
  assert.equal(c.tau, 0.5);
});
