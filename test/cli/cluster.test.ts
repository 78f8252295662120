/**
 * The `satc` command end to end, as a user runs it: a child process, its exit code, stdout,
 * stderr and the run folder it leaves.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { encodeNpy } from "../../src/features/npy.js";

const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "satc-cli-"));

function satc(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, SATC_CACHE: join(tmp, "cache") } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Three well separated blobs of 20 points in 5-d, labels 0/1/2, class 2 listed first. */
function blobs(): { features: string; labels: string } {
  const n = 60;
  const x = new Float32Array(n * 5);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = (i * 7) % 3;
    y[i] = c;
    for (let j = 0; j < 5; j++) x[i * 5 + j] = (j === c ? 10 : 0) + ((i * 31 + j * 17) % 11) / 20;
  }
  const features = join(tmp, "blobs.npy");
  const labels = join(tmp, "blobs-labels.npy");
  writeFileSync(features, encodeNpy(x, [n, 5]));
  writeFileSync(labels, encodeNpy(y, [n]));
  return { features, labels };
}

test("--version prints only the version; --help lists the options", () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8"));
  assert.deepEqual(satc("--version"), { code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  const help = satc("cluster", "--help");
  assert.equal(help.code, 0);
  for (const o of ["-k", "--eval", "--encoder", "--method", "--seed", "--runs", "--out", "--json", "--labels"]) assert.ok(help.stdout.includes(o), o);
});

test("clusters a .npy feature matrix with labels: one JSON document, a run folder, perfect scores", () => {
  const { features, labels } = blobs();
  const out = join(tmp, "run-blobs");
  const r = satc("cluster", features, "-k", "3", "--labels", labels, "--json", "--out", out, "--quiet", "--method", "kmeans", "--n-init", "2");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.n, 60);
  assert.equal(doc.clusters, 3);
  assert.deepEqual(doc.sizes.slice().sort(), [20, 20, 20]);
  assert.deepEqual(doc.metrics, { acc: 1, nmi: 1, ari: 1 });
  assert.equal(doc.eval, null);
  assert.ok(doc.seconds > 0);
  assert.equal(doc.report, join(out, "report.html"));
  assert.match(readFileSync(doc.report, "utf8"), /<html/i);
  const csv = readFileSync(join(out, "assignments.csv"), "utf8").trim().split("\n");
  assert.equal(csv[0], "id,cluster,confidence");
  assert.equal(csv.length, 61);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(record.options.seed, 0);
  assert.equal(record.input.n, 60);
  assert.equal(record.runs.length, 1);
  assert.ok(record.versions.satc && record.versions.node);
  // The confusion table has one row per cluster, one column per class, and sums to n; rows hold
  // the cluster sizes. Each blob is one class, so every row has a single non-zero cell of 20.
  assert.equal(record.confusion.length, 3);
  assert.deepEqual(record.confusion.map((r: number[]) => r.reduce((a, b) => a + b, 0)), record.clusters.sizes);
  assert.deepEqual(record.confusion.map((r: number[]) => r.filter((v) => v > 0)), [[20], [20], [20]]);
});

test("--runs 3 reports mean and std over seeds 0,1,2", () => {
  const { features, labels } = blobs();
  const r = satc("cluster", features, "-k", "3", "--labels", labels, "--json", "--runs", "3", "--method", "kmeans", "--out", join(tmp, "runs3"), "-q", "--no-report");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.runs.n, 3);
  assert.deepEqual(doc.runs.mean, { acc: 1, nmi: 1, ari: 1 });
  assert.deepEqual(doc.runs.std, { acc: 0, nmi: 0, ari: 0 });
  const record = JSON.parse(readFileSync(join(tmp, "runs3", "run.json"), "utf8"));
  assert.deepEqual(record.runs.map((x: { seed: number }) => x.seed), [0, 1, 2]);
});

test("--method heads --restarts 2: both trainings in run.json, the lower final loss kept", () => {
  const { features, labels } = blobs();
  const out = join(tmp, "restarts");
  const r = satc("cluster", features, "-k", "3", "--labels", labels, "--method", "heads", "--restarts", "2", "--epochs", "3", "--out", out, "-q", "--no-report");
  assert.equal(r.code, 0, r.stderr);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(record.options.restarts, 2);
  const { tried, kept } = record.runs[0].restarts;
  assert.deepEqual(tried.map((x: { seed: number }) => x.seed), [0, 1_000_003]);
  assert.ok(tried.every((x: { epochs: number }) => x.epochs === 3));
  const losses = tried.map((x: { loss: number }) => x.loss);
  assert.equal(tried[kept].loss, Math.min(...losses));
  assert.equal(record.runs[0].iterations, 3);
});

test("bad usage exits 2 with a message naming the option or value", () => {
  const { features } = blobs();
  let r = satc("cluster", features, "-k", "61", "-q");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /k=61 is larger than the number of items n=60/);
  r = satc("cluster", features, "-k", "3", "--sede", "1");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--sede'.*did you mean --seed/);
  r = satc("cluster", features, "-k", "3", "--batch-size", "0");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--batch-size/);
  r = satc("cluster", features, "-k", "3", "--method", "kmeans", "--spatial", "gat");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--spatial gat applies to --method heads/);
  r = satc("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

test("a feature file with NaN fails with exit 1, naming the file, without a stack trace", () => {
  const bad = join(tmp, "nan.npy");
  const x = new Float32Array(12).fill(1);
  x[7] = NaN;
  writeFileSync(bad, encodeNpy(x, [4, 3]));
  const r = satc("cluster", bad, "-k", "2", "-q");
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(bad), r.stderr);
  assert.match(r.stderr, /NaN/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/**
 * Two classes of 4 gray 12x10 images (dark with a vertical bar, light with a horizontal one) and one
 * corrupt file, clustered once with `satc cluster` into a run folder. Made on first use and shared,
 * so each test that needs the run gets it, also when run alone (--test-name-pattern).
 */
let shapes: Promise<{ dir: string; out: string; result: ReturnType<typeof satc> }> | null = null;
function shapesRun(): Promise<{ dir: string; out: string; result: ReturnType<typeof satc> }> {
  shapes ??= (async () => {
    const dir = join(tmp, "shapes");
    for (const [cls, colour] of [["dark", 20], ["light", 235]] as const) {
      mkdirSync(join(dir, cls), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const v = colour + i;
        await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: v, g: v, b: v } } })
          // a vertical bar on the dark ones, a horizontal one on the light ones, so centring keeps them apart
          .composite([{ input: { create: { width: cls === "dark" ? 3 : 12, height: cls === "dark" ? 10 : 3, channels: 3, background: { r: 128, g: 128, b: 128 } } }, left: 0, top: 0 }])
          .png()
          .toFile(join(dir, cls, `img${i}.png`));
      }
    }
    writeFileSync(join(dir, "light", "broken.jpg"), "this is not a jpeg");
    const out = join(tmp, "run-shapes");
    return { dir, out, result: satc("cluster", dir, "-k", "2", "--out", out, "-q") };
  })();
  return shapes;
}

test("a folder of images with class sub-folders and one corrupt file: scored, the bad file skipped and listed", async () => {
  const { out, result: r } = await shapesRun();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /skipped 1 unreadable item/);
  assert.match(r.stdout, /shapes  8  100\.00%  100\.00%  100\.00%/);
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.deepEqual(record.input.skipped.map((s: { id: string }) => s.id), ["light/broken.jpg"]);
  assert.deepEqual(record.input.classNames, ["dark", "light"]);
  assert.equal(record.encoder.baseline, true);
  // The default method is the heads, which take the pixels uncentred (k-means takes them centred).
  assert.equal(record.options.method, "heads");
  assert.equal(record.encoder.options.center, "none");
});

test("Fashion-MNIST test split, k-means on pixels: ACC well above chance, eval scoring works", () => {
  // Issue 2's bar is ACC >= 0.47 with 10 restarts (scikit-learn's k-means on raw pixels: 0.483).
  // Three restarts keep this test fast; the full run is in bench/.
  const r = satc("cluster", "fashion-mnist:test", "-k", "10", "--method", "kmeans", "--n-init", "3", "--eval", "fashion-mnist:test", "--json", "--out", join(tmp, "fm"), "-q", "--no-report");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.n, 10000);
  assert.ok(doc.metrics.acc >= 0.47, `ACC ${doc.metrics.acc}`);
  // Assigning the same images to the learned centres reproduces the clustering exactly.
  assert.deepEqual(doc.eval, { n: 10000, metrics: doc.metrics });
});

test("--features with a noun bank: text view decided by tau, names from the nouns, exit 2 for --text on without text space", () => {
  // 3 groups of 300 image embeddings in 6-d around axes 0,1,2 (n = 900 gives K1 = ceil(900/300) = 3
  // centres), and 9 nouns: 3 near each axis (their lemmas say which), so the counterpart, the
  // decision and the names follow from the geometry.
  const dir = join(tmp, "feat");
  mkdirSync(dir, { recursive: true });
  const n = 900;
  const d = 6;
  const images = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    images[i * d + c] = 1;
    images[i * d + 3 + (i % 3)] = 0.05 * ((i * 13) % 7);
  }
  const lemmas = ["cat", "kitten", "tabby", "dog", "puppy", "hound", "car", "truck", "bus"];
  const nouns = new Float32Array(lemmas.length * d);
  lemmas.forEach((_, j) => {
    nouns[j * d + Math.floor(j / 3)] = 1;
    nouns[j * d + 3 + (j % 3)] = 0.1;
  });
  writeFileSync(join(dir, "images.npy"), encodeNpy(images, [n, d]));
  writeFileSync(join(dir, "nouns.npy"), encodeNpy(nouns, [lemmas.length, d]));
  writeFileSync(join(dir, "nouns.txt"), lemmas.join("\n") + "\n");
  writeFileSync(join(dir, "labels.npy"), encodeNpy(labels, [n]));
  const out = join(tmp, "run-feat");
  const r = satc("cluster", "--features", dir, "-k", "3", "--text", "on", "--method", "kmeans", "--out", out, "--json", "-q", "--no-report");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.metrics, { acc: 1, nmi: 1, ari: 1 });
  const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(record.text.mode, "on");
  assert.equal(record.text.used, true);
  assert.equal(typeof record.text.tau, "number");
  // Every cluster is named by nouns of its own axis group.
  const groups = [["cat", "kitten", "tabby"], ["dog", "puppy", "hound"], ["car", "truck", "bus"]];
  for (const names of record.clusters.names) {
    assert.ok(names.length > 0);
    const g = groups.find((grp) => grp.includes(names[0]))!;
    assert.ok(names.every((x: string) => g.includes(x)), JSON.stringify(record.clusters.names));
  }
  const pixels = satc("cluster", "fashion-mnist:test", "-k", "10", "--text", "on", "-q", "--no-report");
  assert.equal(pixels.code, 2);
  assert.match(pixels.stderr, /--text on: the pixels encoder has no text space/);
});

test("satc report rebuilds the page and satc export lays the clusters out as folders of copies", async () => {
  const { out: run, result } = await shapesRun();
  assert.equal(result.code, 0, result.stderr);
  const rebuilt = satc("report", run, "-q");
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stdout, new RegExp(`report ${join(run, "report.html").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(`));
  const dest = join(tmp, "shapes-by-cluster");
  const exported = satc("export", run, dest, "--copy", "-q");
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /exported 8 image\(s\) into 2 folders/);
  const folders = readdirSync(dest).sort();
  assert.equal(folders.length, 2);
  // Each folder holds the 4 images of one class (the clustering above is perfect).
  const contents = folders.map((f) => readdirSync(join(dest, f)).length);
  assert.deepEqual(contents, [4, 4]);
  const again = satc("export", run, dest, "--copy", "-q");
  assert.equal(again.code, 1, "a non-empty destination is refused");
  assert.match(again.stderr, /not empty|non-empty/);
  assert.equal(satc("export", run, join(tmp, "x"), "--copy", "--link").code, 2);
});
