import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { readNpy } from "../../src/features/npy.js";
import { buildTextCounterpart, imageCenters, selectNouns } from "../../src/text/counterpart.js";
import { textCompactness } from "../../src/text/selector.js";
import { normalizeRows, type Matrix } from "../../src/util/matrix.js";

// Fixtures from `/usr/bin/python3 test/reference/text_reference.py` (float64 numpy, faiss spherical
// k-means for the image centres, scikit-learn KMeans for tau): 2710 images in 10 far-apart groups
// (K1 = ceil(2710/300) = 10), 300 nouns of which 8 per group at distinct cosines. Tolerances:
// confidences 1e-5, z_textual 1e-4 per value (float32 vs float64 with logits up to ~198), tau 1e-5.
const dir = new URL("../../../test/fixtures/text/", import.meta.url);
interface Reference {
  nImages: number;
  centers: number;
  imageLabels: number[];
  selected: number[];
  selectedCenter: number[];
  selectedConfidence: number[];
  maxRetrievalLogit: number;
  tau: number;
  tauPerCluster: number[];
}
const ref = JSON.parse(await readFile(new URL("synthetic.json", dir), "utf8")) as Reference;
async function load(name: string): Promise<Matrix> {
  const a = await readNpy(new URL(name, dir).pathname);
  return { data: a.data as Float32Array, rows: a.shape[0], cols: a.shape[1] };
}
const images = await load("synthetic_images.npy");
const nouns = await load("synthetic_nouns.npy");
const zRef = await load("synthetic_ztext.npy");

/** The bijection from our cluster ids to the reference's, checked on every image. */
function labelMap(ours: ArrayLike<number>, theirs: ArrayLike<number>): Map<number, number> {
  const map = new Map<number, number>();
  for (let i = 0; i < ours.length; i++) {
    const seen = map.get(ours[i]);
    if (seen === undefined) map.set(ours[i], theirs[i]);
    else assert.equal(seen, theirs[i], `image ${i}: cluster ${ours[i]} maps to both ${seen} and ${theirs[i]}`);
  }
  assert.equal(new Set(map.values()).size, map.size, "cluster map is not one-to-one");
  return map;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("text counterpart: K1, selected nouns, their centres and z_textual match the numpy reference", async () => {
  assert.ok(ref.maxRetrievalLogit > 88.8, "the fixture must push exp() past float32's range");
  const events: string[] = [];
  const c = await buildTextCounterpart(images, nouns, { seed: 3, threads: 1, blockSize: 1000, onProgress: (e) => events.push(e.phase) });
  assert.equal(c.centers, ref.centers);
  assert.equal(c.centers, Math.ceil(images.rows / 300));
  assert.deepEqual(c.warnings, []);
  const map = labelMap(c.imageLabels, ref.imageLabels);
  assert.deepEqual([...c.selected], ref.selected);
  assert.deepEqual([...c.center].map((k) => map.get(k)), ref.selectedCenter);
  assert.ok(maxAbsDiff(c.confidence, ref.selectedConfidence) < 1e-5);
  assert.deepEqual([c.embeddings.rows, c.embeddings.cols], [zRef.rows, zRef.cols]);
  assert.ok(c.embeddings.data.every(Number.isFinite), "z_textual must be finite at temperature 0.005");
  const diff = maxAbsDiff(c.embeddings.data, zRef.data);
  assert.ok(diff < 1e-4, `z_textual differs from the reference by ${diff}`);
  assert.ok(events.includes("kmeans") && events.includes("select") && events.includes("retrieve"));
  // The inputs are left as they were (raw scale).
  assert.ok(Math.abs(Math.hypot(...images.data.subarray(0, 16)) - 1) > 1e-3);
});

test("tau of the reference z_textual matches scikit-learn's KMeans(10) value", async () => {
  const d = await textCompactness(zRef, { threads: 1 });
  assert.equal(d.clusters, 10);
  assert.ok(Math.abs(d.tau - ref.tau) < 1e-5, `tau ${d.tau} vs ${ref.tau}`);
  assert.ok(maxAbsDiff([...d.perCluster].sort((a, b) => a - b), ref.tauPerCluster) < 1e-5);
  assert.equal(d.used, ref.tau > 0.33);
  assert.equal(d.mode, "auto");
});

test("given image labels skip the k-means; an empty centre takes no part and is reported", async () => {
  const labels = Int32Array.from(ref.imageLabels);
  const c = await buildTextCounterpart(images, nouns, { imageLabels: labels, threads: 1 });
  assert.deepEqual([...c.selected], ref.selected);
  assert.deepEqual([...c.center], ref.selectedCenter);
  // Centre 10 of 11 has no image: same selection, one warning.
  const c11 = await buildTextCounterpart(images, nouns, { imageLabels: labels, centers: 11, threads: 1 });
  assert.deepEqual([...c11.selected], ref.selected);
  assert.equal(c11.warnings.length, 1);
  assert.match(c11.warnings[0], /1 of 11 image centres have no images/);
  await assert.rejects(buildTextCounterpart(images, nouns, { imageLabels: labels, centers: 5 }), /outside \[0, centers=5\)/);
  await assert.rejects(buildTextCounterpart(images, { data: new Float32Array(8), rows: 1, cols: 8 }), /16 dimensions but noun embeddings have 8/);
});

test("selectNouns: a hand-made case (softmax over centres, top 2 per centre, ties by index)", async () => {
  // Centres e0, e1. Nouns (unit): n0 = e0, n1 = (0.8, 0.6), n2 = e1, n3 = (0.6, 0.8), n4 = e0 (tie with n0),
  // n5 = -e0 (goes to e1: sim -1 vs 0). Probabilities: softmax([s0, s1]) per noun.
  const centers = { data: Float32Array.of(1, 0, 0, 1), rows: 2, cols: 2 };
  const n = normalizeRows({ data: Float32Array.of(1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8, 1, 0, -1, 0), rows: 6, cols: 2 });
  const s = await selectNouns(centers, n, { nounsPerCenter: 2, blockSize: 4, threads: 1 });
  // Centre 0: n0, n4 (p = e/(e+1) = 0.731) beat n1 (p = sigmoid(0.2) = 0.550). Centre 1: n2 (0.731), n5 (sigmoid(1) = 0.731) beat n3 (0.550).
  assert.deepEqual([...s.selected], [0, 2, 4, 5]);
  assert.deepEqual([...s.center], [0, 1, 0, 1]);
  const p = 1 / (1 + Math.exp(-1));
  assert.ok(maxAbsDiff(s.confidence, [p, p, p, p]) < 1e-6);
  const { centers: c, empty } = imageCenters({ data: Float32Array.of(2, 0, 0, 3, 1, 0), rows: 3, cols: 2 }, Int32Array.of(0, 2, 0), 3);
  assert.deepEqual([...c.data], [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(empty, [1]);
});
