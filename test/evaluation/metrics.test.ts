/**
 * Metrics against scikit-learn 1.2.1 / scipy 1.10.1. Fixture test/fixtures/metrics.json written by
 * `/usr/bin/python3 test/reference/metrics_reference.py` (NMI: normalized_mutual_info_score,
 * ARI: adjusted_rand_score, ACC: linear_sum_assignment(maximize=True) over the full contingency
 * table). Tolerance 1e-12 absolute.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  contingencyTable,
  evaluateClustering,
  normalizedMutualInfo,
} from "../../src/evaluation/metrics.js";
import { linearSumAssignment } from "../../src/evaluation/hungarian.js";
import { UsageError } from "../../src/errors.js";
import { Random } from "../../src/util/random.js";

interface Case {
  name: string;
  yTrue: number[];
  yPred: number[];
  nClasses: number | null;
  nClusters: number | null;
  acc: number;
  nmi: number;
  ari: number;
  table: number[][];
}
const fixture = JSON.parse(readFileSync(new URL("../../../test/fixtures/metrics.json", import.meta.url), "utf8")) as { cases: Case[] };
const TOL = 1e-12;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: ${actual} vs scikit-learn ${expected}`);
}

test("fixture holds the adversarial cases", () => {
  assert.ok(fixture.cases.length >= 20);
  assert.ok(fixture.cases.some((c) => c.name === "relabelled perfect match"));
});

for (const c of fixture.cases) {
  test(`metrics match scikit-learn: ${c.name}`, () => {
    const options = { nClasses: c.nClasses ?? undefined, nClusters: c.nClusters ?? undefined };
    const yTrue = Int32Array.from(c.yTrue);
    const yPred = Int32Array.from(c.yPred);
    close(clusteringAccuracy(yTrue, yPred, options), c.acc, "ACC");
    close(normalizedMutualInfo(yTrue, yPred), c.nmi, "NMI");
    close(adjustedRandIndex(yTrue, yPred), c.ari, "ARI");
    const scores = evaluateClustering(c.yTrue, c.yPred, options);
    close(scores.acc, c.acc, "evaluateClustering ACC");
    close(scores.nmi, c.nmi, "evaluateClustering NMI");
    close(scores.ari, c.ari, "evaluateClustering ARI");
    const t = scores.contingency;
    assert.deepEqual(
      Array.from({ length: t.classes.length }, (_, r) => Array.from(t.counts.subarray(r * t.clusters.length, (r + 1) * t.clusters.length))),
      c.table,
    );
    // The mapping realises the ACC: matched counts over n.
    let matched = 0;
    const used = new Set<number>();
    scores.clusterToClass.forEach((cls, col) => {
      if (cls < 0) return;
      assert.ok(!used.has(cls), `class ${cls} matched twice`);
      used.add(cls);
      matched += t.counts[cls * t.clusters.length + col];
    });
    close(matched / t.n, c.acc, "matched/n");
  });
}

test("relabelled perfect match scores 1 on all three", () => {
  const y = [0, 0, 1, 1, 2, 2, 2, 3];
  const p = y.map((v) => [7, 2, 9, 4][v]);
  const s = evaluateClustering(y, p);
  assert.equal(s.acc, 1);
  assert.ok(Math.abs(s.nmi - 1) < 1e-15, `NMI ${s.nmi}`); // scikit-learn also gives 1 - 2e-16 here
  assert.equal(s.ari, 1);
  // Columns are clusters 2,4,7,9; they hold classes 1,3,0,2 (rows = class values here).
  assert.deepEqual(Array.from(s.clusterToClass), [1, 3, 0, 2]);
});

test("empty clusters appear as zero columns and stay unmatched when classes run out", () => {
  const t = contingencyTable([0, 1, 1], [0, 2, 2], { nClusters: 4 });
  assert.deepEqual(Array.from(t.clusters), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(t.counts), [1, 0, 0, 0, 0, 0, 2, 0]);
  const s = evaluateClustering([0, 1, 1], [0, 2, 2], { nClusters: 4 });
  assert.equal(s.acc, 1);
  assert.deepEqual(Array.from(s.clusterToClass), [0, -1, 1, -1]);
});

test("errors name the problem", () => {
  assert.throws(() => clusteringAccuracy([0, 1], [0]), (e: unknown) => e instanceof UsageError && /yTrue has 2, yPred has 1/.test(e.message));
  assert.throws(() => contingencyTable([0, 1], [0, 5], { nClusters: 3 }), /yPred\[1\] = 5 is outside 0..2/);
  assert.throws(() => contingencyTable([0, 1.5], [0, 1]), /yTrue\[1\] = 1.5 is not an integer/);
});

test("empty input: ACC 1, NMI 1 (scikit-learn's convention), ARI 1", () => {
  const s = evaluateClustering([], []);
  assert.equal(s.acc, 1);
  assert.equal(s.nmi, 1);
  assert.equal(s.ari, 1);
});

/** Brute force over all injective maps of the smaller side into the larger one. */
function bruteForce(cost: number[], rows: number, cols: number): number {
  let best = Infinity;
  const small = Math.min(rows, cols);
  const large = Math.max(rows, cols);
  const at = (s: number, l: number) => (rows <= cols ? cost[s * cols + l] : cost[l * cols + s]);
  const used = new Array<boolean>(large).fill(false);
  const go = (s: number, acc: number): void => {
    if (s === small) {
      best = Math.min(best, acc);
      return;
    }
    for (let l = 0; l < large; l++) {
      if (used[l]) continue;
      used[l] = true;
      go(s + 1, acc + at(s, l));
      used[l] = false;
    }
  };
  go(0, 0);
  return best;
}

test("linearSumAssignment finds the optimum on random rectangular matrices (vs brute force)", () => {
  const random = new Random(7);
  for (let trial = 0; trial < 200; trial++) {
    const rows = 1 + random.int(6);
    const cols = 1 + random.int(6);
    const cost = Array.from({ length: rows * cols }, () => (trial % 2 ? random.int(5) : random.next() * 10 - 3));
    const a = linearSumAssignment(cost, rows, cols);
    const want = bruteForce(cost, rows, cols);
    assert.ok(Math.abs(a.total - want) < 1e-9, `trial ${trial} (${rows}x${cols}): ${a.total} vs ${want}`);
    // A valid partial permutation of size min(rows, cols), consistent both ways.
    let pairs = 0;
    let total = 0;
    a.rowToCol.forEach((c, r) => {
      if (c < 0) return;
      pairs++;
      assert.equal(a.colToRow[c], r);
      total += cost[r * cols + c];
    });
    assert.equal(pairs, Math.min(rows, cols));
    assert.ok(Math.abs(total - a.total) < 1e-9);
    const max = linearSumAssignment(cost, rows, cols, true);
    const wantMax = -bruteForce(cost.map((v) => -v), rows, cols);
    assert.ok(Math.abs(max.total - wantMax) < 1e-9, `maximize trial ${trial}`);
  }
});
