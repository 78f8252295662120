import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterNames } from "../../src/text/names.js";

test("cluster names: nearest selected nouns to each cluster's mean text feature, lemmas once", () => {
  // 2-D: cluster 0 around 10 degrees, cluster 1 around 100 degrees, cluster 2 empty.
  const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
  const z = { data: Float32Array.from([0, 20, 95, 105].flatMap(deg)), rows: 4, cols: 2 };
  const labels = Int32Array.of(0, 0, 1, 1);
  // Noun angles: cat 12, dog 30, dog (second synset) 9, car 100, bus 80, sky -75.
  const angles = [12, 30, 9, 100, 80, -75];
  const lemmas = ["cat", "dog", "dog", "car", "bus", "sky"];
  const nouns = { embeddings: { data: Float32Array.from(angles.flatMap((a) => deg(a).map((v) => 3 * v))), rows: 6, cols: 2 }, lemmas };
  const r = clusterNames(z, labels, 3, nouns, 3);
  // Mean of 0 and 20 degrees points at 10: dog(9) 1 deg, cat(12) 2 deg, dog(30) dropped as duplicate, then bus (70 deg).
  assert.deepEqual(r.names, [["dog", "cat", "bus"], ["car", "bus", "dog"], []]);
  assert.ok(Math.abs(r.similarity[0][0] - Math.cos(Math.PI / 180)) < 1e-6);
  assert.ok(Math.abs(r.similarity[1][0] - 1) < 1e-6);
  assert.deepEqual(clusterNames(z, labels, 3, nouns, 1).names, [["dog"], ["car"], []]);
  assert.throws(() => clusterNames(z, Int32Array.of(0, 0, 1, 5), 3, nouns), /labels\[3\]=5 is outside \[0, 3\)/);
});
