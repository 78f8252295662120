import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { esc, layoutMap, parseAssignments, writeReport } from "../../src/report/index.js";
import { jsonForScript } from "../../src/report/html.js";
import { parseCsv } from "../../src/report/run-folder.js";
import { SatcError } from "../../src/errors.js";
import type { FeatureDataset } from "../../src/input/dataset.js";
import { Random } from "../../src/util/random.js";
import { fakeImages, makeRun, solidImage } from "./helpers.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "satc-report-"));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const EVIL = `<script>alert("x")</script>&'`;

/** A run of n synthetic images in k clusters with random confidences; cluster 2's name and one id are hostile. */
function synthetic(n: number, k: number, seed = 1) {
  const random = new Random(seed);
  const ids = Array.from({ length: n }, (_, i) => (i === 3 ? `a,"b"${EVIL}.png` : `img-${i}`));
  const cluster = Int32Array.from({ length: n }, (_, i) => (i < k ? i : random.int(k)));
  const confidence = Float32Array.from({ length: n }, () => 0.2 + 0.8 * random.next());
  const labels = Int32Array.from({ length: n }, (_, i) => (cluster[i] + (i % 5 === 0 ? 1 : 0)) % 3);
  const d = 6;
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) features[i * d + j] = (j === cluster[i] % d ? 3 : 0) + random.normal();
  const names = Array.from({ length: k }, (_, c) => (c === 2 ? [EVIL, "boot"] : [`noun${c}`, `other${c}`]));
  const images = ids.map((_, i) => solidImage(i));
  return { ids, cluster, confidence, labels, features, names, images, k, n, d };
}

/** The HTML of the section of cluster c. */
function sectionOf(html: string, c: number): string {
  const start = html.indexOf(`<section class="cluster k${c}" id="cluster-${c}"`);
  assert.ok(start >= 0, `section of cluster ${c} missing`);
  return html.slice(start, html.indexOf("</section>", start));
}

describe("assignments.csv", () => {
  test("RFC 4180 fields: quotes, commas and doubled quotes in ids", () => {
    assert.deepEqual(parseCsv('id,cluster,confidence\n"a,""b""",1,0.5\r\nplain,0,1\n'), [
      ["id", "cluster", "confidence"],
      ['a,"b"', "1", "0.5"],
      ["plain", "0", "1"],
    ]);
  });
  test("bad rows are reported with file and line", () => {
    assert.throws(() => parseAssignments("id,cluster,confidence\nx,0,0.5\ny,7,0.1\n", "run/assignments.csv", 3), (e: unknown) =>
      e instanceof SatcError && /assignments\.csv:3: expected a cluster in 0\.\.2 but found '7'/.test(e.message));
    assert.throws(() => parseAssignments("id,label\n", "a.csv", 2), /expected the header 'id,cluster,confidence'/);
    assert.throws(() => parseAssignments("id,cluster,confidence\nx,0,abc\n", "a.csv", 2), /a\.csv:2: expected a number for confidence/);
  });
});

describe("escaping", () => {
  test("esc replaces the five HTML specials", () => {
    assert.equal(esc(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
  test("JSON in a script block cannot close the element", () => {
    const s = jsonForScript({ id: "</script><!--\u2028" });
    assert.ok(!s.includes("<") && !s.includes(">"));
    assert.deepEqual(JSON.parse(s), { id: "</script><!--\u2028" });
  });
});

describe("layoutMap", () => {
  test("a seeded sample of at most maxPoints rows, laid out in the unit square, reproducibly", () => {
    const random = new Random(5);
    const n = 120, d = 8;
    const data = Float32Array.from({ length: n * d }, () => random.normal());
    const a = layoutMap({ data, rows: n, cols: d }, { maxPoints: 50, seed: 1, epochs: 30 })!;
    const b = layoutMap({ data, rows: n, cols: d }, { maxPoints: 50, seed: 1, epochs: 30 })!;
    const c = layoutMap({ data, rows: n, cols: d }, { maxPoints: 50, seed: 2, epochs: 30 })!;
    assert.equal(a.index.length, 50);
    assert.equal(new Set(a.index).size, 50);
    assert.ok(a.index.every((v, i) => v >= 0 && v < n && (i === 0 || v > a.index[i - 1])), "distinct rows, ascending");
    assert.deepEqual(a.index, b.index);
    assert.deepEqual(a.xy, b.xy);
    assert.notDeepEqual(a.index, c.index);
    assert.ok(a.xy.every((v) => v >= 0 && v <= 1));
    assert.equal(layoutMap({ data: new Float32Array(8), rows: 2, cols: 4 }), null);
  });
});

describe("writeReport", () => {
  test("a section per cluster with its most and least confident thumbnails, the map, escaping", async () => {
    const dir = await tempDir();
    const s = synthetic(90, 5);
    const classNames = ["T-shirt", "Trouser", `Bag ${EVIL}`];
    await makeRun(dir, { ids: s.ids, cluster: s.cluster, confidence: s.confidence, k: s.k, source: "fake:", names: s.names, labels: s.labels, classNames, features: { data: s.features, cols: s.d } });
    const dataset = fakeImages(s.images, { ids: s.ids, labels: s.labels, classNames });
    const events: string[] = [];
    const result = await writeReport(dir, { dataset, perCluster: 4, map: { epochs: 50 }, onProgress: (e) => events.push(e.stage) });
    const html = await readFile(join(dir, "report.html"), "utf8");
    assert.equal(result.path, join(dir, "report.html"));
    assert.equal(result.bytes, Buffer.byteLength(html));
    assert.equal(result.thumbnails, "embedded");
    assert.ok(events.includes("map") && events.includes("thumbnails") && events.includes("write"));

    // Confidences as written to assignments.csv (6 decimals), read back independently.
    const csv = parseAssignments(await readFile(join(dir, "assignments.csv"), "utf8"), "csv", s.k);
    assert.equal((html.match(/<section class="cluster /g) ?? []).length, s.k);
    for (let c = 0; c < s.k; c++) {
      const section = sectionOf(html, c);
      const conf = Array.from(csv.confidence).filter((_, i) => csv.cluster[i] === c).sort((a, b) => b - a);
      const top = conf.slice(0, 4);
      const bottom = conf.slice(Math.max(4, conf.length - 4)).reverse();
      const shownConf = [...section.matchAll(/<figcaption>([\d.]+)<\/figcaption>/g)].map((m) => Number(m[1]));
      assert.deepEqual(shownConf, [...top, ...bottom].map((v) => Number(v.toFixed(2))), `cluster ${c} thumbnails in confidence order`);
      const imgs = [...section.matchAll(/<img src="data:image\/webp;base64,([^"]+)"/g)];
      assert.equal(imgs.length, top.length + bottom.length);
      const meta = await sharp(Buffer.from(imgs[0][1], "base64")).metadata();
      assert.equal(meta.format, "webp");
      assert.deepEqual([meta.width, meta.height], [20, 16], "small images keep their size");
      assert.ok(section.includes(`${conf.length} items`));
    }
    // Names are escaped wherever they appear; nothing hostile survives raw.
    assert.ok(!html.includes(EVIL));
    assert.ok(!html.includes("<script>alert"));
    assert.ok(sectionOf(html, 2).includes(esc(EVIL)));
    assert.ok(html.includes(esc(`a,"b"${EVIL}.png`)), "hostile id is shown escaped");
    assert.ok(html.includes(esc("cannot decode <b>header</b>")), "skipped reasons are escaped");

    // The map: one circle per item, payload ids in the same order, the atlas embedded.
    assert.equal((html.match(/<circle /g) ?? []).length, s.n);
    const payload = JSON.parse(/<script type="application\/json" id="map-data">(.*?)<\/script>/s.exec(html)![1]);
    assert.equal(payload.id.length, s.n);
    assert.deepEqual(payload.id, s.ids, "all items, in input order");
    assert.deepEqual(payload.cluster, Array.from(s.cluster));
    assert.equal(payload.label[3], classNames[s.labels[3]]);
    const atlas = /<img id="atlas" hidden alt="" src="data:image\/webp;base64,([^"]+)"/.exec(html);
    assert.ok(atlas, "atlas image embedded");
    const atlasMeta = await sharp(Buffer.from(atlas[1], "base64")).metadata();
    assert.equal(payload.tile, 20);
    assert.equal(atlasMeta.width, payload.columns * payload.tile);

    // Metrics, confusion matrix and settings.
    assert.ok(html.includes('id="metrics"') && html.includes("Confusion matrix"));
    assert.equal((html.match(/<td class="total">/g) ?? []).length, s.k);
    assert.ok(html.includes("tau") && html.includes("0.2100") && html.includes("not used"));
    assert.ok(html.includes("baseline"));
    // Self-contained: no external resource.
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
    assert.ok(!/<link\b|@import|url\(http/.test(html));
  });

  test("no features: the map is left out with a note; the thumbnails stay", async () => {
    const dir = await tempDir();
    const s = synthetic(30, 3);
    await makeRun(dir, { ids: s.ids, cluster: s.cluster, confidence: s.confidence, k: s.k, source: "fake:" });
    const result = await writeReport(dir, { dataset: fakeImages(s.images, { ids: s.ids }) });
    const html = await readFile(result.path, "utf8");
    assert.equal(result.mapPoints, 0);
    assert.ok(!html.includes("<svg"));
    assert.match(html, /The map is left out: the run recorded no features file/);
    assert.equal((html.match(/<section class="cluster /g) ?? []).length, 3);
    assert.ok((html.match(/<img src="data:image\/webp/g) ?? []).length >= 3);
    assert.ok(!html.includes('id="metrics"'), "no labels, no metrics section");
  });

  test("a feature-only input: map from its features, no thumbnails", async () => {
    const dir = await tempDir();
    const s = synthetic(40, 4);
    await makeRun(dir, { ids: s.ids, cluster: s.cluster, confidence: s.confidence, k: s.k, source: "features.npy" });
    const dataset: FeatureDataset = {
      kind: "features", name: "f", source: "f.npy", fingerprint: "f", ids: s.ids, labels: null, classNames: null, skipped: [],
      features: { data: s.features, rows: s.n, cols: s.d },
    };
    const result = await writeReport(dir, { dataset, map: { epochs: 30 } });
    const html = await readFile(result.path, "utf8");
    assert.equal(result.thumbnails, "none");
    assert.equal(result.mapPoints, 40);
    assert.equal((html.match(/<circle /g) ?? []).length, 40);
    assert.ok(!html.includes("<img"));
    assert.match(html, /feature matrix: the report has no images/);
  });

  test("thumbnails go to thumbs/ when asked or when they exceed the embed limit; a rebuild replaces them", async () => {
    const dir = await tempDir();
    const s = synthetic(50, 3);
    await makeRun(dir, { ids: s.ids, cluster: s.cluster, confidence: s.confidence, k: s.k, source: "fake:", features: { data: s.features, cols: s.d } });
    const dataset = fakeImages(s.images, { ids: s.ids });
    const small = await writeReport(dir, { dataset, perCluster: 3, embedLimitBytes: 100, map: { epochs: 20 } });
    assert.equal(small.thumbnails, "folder");
    const files = await readdir(join(dir, "thumbs"));
    assert.ok(files.includes("map.webp"));
    const html = await readFile(small.path, "utf8");
    const srcs = [...html.matchAll(/<img src="(thumbs\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(srcs.length, files.length - 1);
    for (const src of srcs) assert.ok((await stat(join(dir, src))).size > 0);
    assert.ok(small.thumbBytes > 0);
    const embedded = await writeReport(dir, { dataset, perCluster: 3, thumbs: "embed", map: { epochs: 20 } });
    assert.equal(embedded.thumbnails, "embedded");
    await assert.rejects(stat(join(dir, "thumbs")), "stale thumbs/ removed");
  });

  test("an input that cannot be opened again gives a report without images and says why", async () => {
    const dir = await tempDir();
    const s = synthetic(12, 2);
    await makeRun(dir, { ids: s.ids, cluster: s.cluster, confidence: s.confidence, k: s.k, source: join(dir, "gone-folder") });
    const result = await writeReport(dir, { map: false });
    const html = await readFile(result.path, "utf8");
    assert.equal(result.thumbnails, "none");
    assert.match(html, /could not be opened again/);
    assert.equal((html.match(/<section class="cluster /g) ?? []).length, 2);
    assert.ok(html.includes('class="noimg"'));
  });

  test("a folder without run.json is refused by name", async () => {
    const dir = await tempDir();
    await assert.rejects(writeReport(dir), (e: unknown) => e instanceof SatcError && e.message.includes("is not a run folder (no run.json)"));
  });
});
