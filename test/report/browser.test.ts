/**
 * The report in a real browser: Playwright drives Debian's chromium over the report of a small
 * real run (300 Fashion-MNIST test images, clustered by a tiny seeded k-means on their pixels,
 * read back through the IDX reader), checks that every cluster section, thumbnail and the map
 * render, that hovering a point shows its image, and saves a full-page screenshot to
 * $SATC_TEST_OUT (default <tmpdir>/satc-test-out)/report-browser.png.
 *
 * Skips, with a message, when /usr/bin/chromium is absent (`apt-get install chromium`); CI installs it.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { openDataset } from "../../src/input/index.js";
import { hasPixelBlock } from "../../src/input/index.js";
import { writeReport } from "../../src/report/index.js";
import { FASHION_DIR, hasFashionMnist, makeRun, pixelFeatures, tinyKmeans, writeIdxPair } from "./helpers.js";

/** The page's document, inside page.evaluate callbacks (the compile target has no DOM types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const N = 300;
const K = 10;

const skip = !existsSync(CHROMIUM)
  ? `chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium' to run the browser test`
  : !hasFashionMnist
    ? `Fashion-MNIST not found in ${FASHION_DIR}: install it with 'apt-get install dataset-fashion-mnist'`
    : false;

test("the report of a small Fashion-MNIST run renders in chromium", { skip, timeout: 120_000 }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), "satc-browser-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const runDir = join(work, "run");
  await mkdir(runDir);

  // A real run folder: 300 images as an IDX file, k-means clusters on their pixels.
  const fashion = await openDataset("fashion-mnist:test");
  assert.ok(hasPixelBlock(fashion) && fashion.labels && fashion.classNames);
  const source = await writeIdxPair(work, fashion.pixels.data, fashion.labels, N);
  const features = pixelFeatures(fashion.pixels.data, N);
  const { cluster, confidence } = tinyKmeans(features, N, 784, K, 1);
  const labels = fashion.labels.slice(0, N);
  const classNames = [...fashion.classNames];
  const names = Array.from({ length: K }, (_, c) => (c % 2 === 0 ? [`noun${c}`, "garment"] : []));
  await makeRun(runDir, {
    ids: Array.from({ length: N }, (_, i) => String(i).padStart(5, "0")),
    cluster, confidence, k: K, source, name: "fashion-mnist (300)", names, labels, classNames,
    features: { data: features, cols: 784 },
  });
  const report = await writeReport(runDir, { map: { epochs: 100 } });
  const html = await readFile(report.path, "utf8");
  const expectedThumbs = (html.match(/<figure class="thumb"/g) ?? []).length;
  assert.ok(expectedThumbs >= K, "thumbnails in the HTML");
  const nonEmpty = new Set(cluster).size;

  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(join(tmpdir(), "satc-chromium-profile-"));
  t.after(() => rm(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("request", (r) => requests.push(r.url()));
    const started = Date.now();
    await page.goto(pathToFileURL(report.path).href, { waitUntil: "load" });
    t.diagnostic(`load event after ${Date.now() - started} ms; report ${report.bytes} bytes`);

    const seen = await page.evaluate(() => {
      const sections: any[] = [...document.querySelectorAll("section.cluster")];
      const thumbs: any[] = [...document.querySelectorAll("section.cluster img")];
      const atlas = document.querySelector("#atlas");
      const svg = document.querySelector("#map-svg")!;
      const box = svg.getBoundingClientRect();
      return {
        sections: sections.length,
        sectionIds: sections.map((s) => s.id),
        withThumbs: sections.filter((s) => s.querySelector("img")).length,
        thumbs: thumbs.length,
        decoded: thumbs.filter((i) => i.complete && i.naturalWidth > 0).length,
        circles: svg.querySelectorAll("circle").length,
        mapSize: [box.width, box.height],
        atlasWidth: atlas ? atlas.naturalWidth : 0,
      };
    });
    assert.equal(seen.sections, K);
    assert.deepEqual(seen.sectionIds, Array.from({ length: K }, (_, c) => `cluster-${c}`));
    assert.equal(seen.withThumbs, nonEmpty);
    assert.equal(seen.thumbs, expectedThumbs);
    assert.equal(seen.decoded, seen.thumbs, "every thumbnail decoded");
    assert.equal(seen.circles, N);
    assert.ok(seen.mapSize[0] > 300 && seen.mapSize[1] > 300, `map drawn at ${seen.mapSize}`);
    assert.ok(seen.atlasWidth > 0, "hover atlas decoded");

    // Hover a point: the tooltip shows its image (some non-white pixels) and its id.
    const circle = page.locator("#map-svg circle").nth(17);
    await circle.hover();
    const tip = await page.evaluate(() => {
      const el = document.querySelector("#tip")!;
      const ctx = el.querySelector("canvas")!.getContext("2d")!;
      const px = ctx.getImageData(0, 0, 96, 96).data;
      let dark = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 200) dark++;
      return { hidden: el.hidden, text: el.querySelector(".tiptext")!.textContent, dark };
    });
    assert.equal(tip.hidden, false);
    assert.match(tip.text ?? "", /^\d{5} · cluster \d+ · confidence [\d.]+ · class /);
    assert.ok(tip.dark > 50, `tooltip image drawn (${tip.dark} dark pixels)`);

    // A legend click highlights one cluster.
    await page.locator(".legend").first().click();
    const focused = await page.evaluate(() => ({
      focus: document.querySelector("#map-svg")!.classList.contains("focus"),
      on: document.querySelectorAll("#map-svg circle.on").length,
    }));
    assert.ok(focused.focus);
    assert.equal(focused.on, Array.from(cluster).filter((c) => c === 0).length);
    await page.locator(".legend").first().click();

    const outDir = process.env.SATC_TEST_OUT ?? join(tmpdir(), "satc-test-out");
    await mkdir(outDir, { recursive: true });
    await circle.hover();
    await page.screenshot({ path: join(outDir, "report-browser-map.png") });
    await page.screenshot({ path: join(outDir, "report-browser.png"), fullPage: true });
    t.diagnostic(`screenshots in ${outDir}`);

    assert.deepEqual(errors, [], "no script errors");
    assert.deepEqual(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:")), [], "no network requests");
  } finally {
    await context.close();
  }
});
