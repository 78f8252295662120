/**
 * Opt-in measurement (SATC_REPORT_10K=1): build the report of a 10,000-image run and open it in
 * chromium; prints build time, size and the load-event time, and writes them to
 * $SATC_TEST_OUT/report-10k.json. Two inputs:
 *  - Fashion-MNIST test (10,000 28x28 images), k-means (k=10) on the pixels, features = pixels;
 *  - "photos": 10,000 random 160x120 crops of three photographs shipped by Debian packages
 *    (scikit-learn's china.jpg and flower.jpg, matplotlib's grace_hopper.jpg), random clusters,
 *    random features, standing in for a folder of camera images (64 px thumbnails).
 * Each in "auto", "embed" and "folder" thumbnail modes.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import sharp from "sharp";
import { hasPixelBlock, openDataset } from "../../src/input/index.js";
import type { ImageDataset, RawImage } from "../../src/input/dataset.js";
import { writeReport, type ReportOptions } from "../../src/report/index.js";
import { Random } from "../../src/util/random.js";
import { hasFashionMnist, makeRun, pixelFeatures, tinyKmeans } from "./helpers.js";

const PHOTOS = ["/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg", "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg", "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"];
const N = 10_000;

const skip = !process.env.SATC_REPORT_10K
  ? "measurement only: set SATC_REPORT_10K=1"
  : !existsSync("/usr/bin/chromium") || !hasFashionMnist
    ? "needs /usr/bin/chromium and Fashion-MNIST"
    : false;

async function dirBytes(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}

test("report of a 10,000-image run: size and time to open", { skip, timeout: 900_000 }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), "satc-10k-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const results: Record<string, unknown>[] = [];

  // Fashion-MNIST test.
  const fashion = await openDataset("fashion-mnist:test");
  if (!hasPixelBlock(fashion) || !fashion.labels) throw new Error("expected Fashion-MNIST pixels and labels");
  const fFeatures = pixelFeatures(fashion.pixels.data, N);
  const km = tinyKmeans(fFeatures, N, 784, 10, 1, 10);
  const fashionRun = join(work, "fashion");
  await makeRun(fashionRun, {
    ids: fashion.ids, cluster: km.cluster, confidence: km.confidence, k: 10, source: "fashion-mnist:test", name: "fashion-mnist:test",
    labels: fashion.labels, classNames: fashion.classNames, features: { data: fFeatures, cols: 784 },
  });

  // Photos: random crops of three photographs.
  const decoded = await Promise.all(PHOTOS.map(async (p) => sharp(p).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  const random = new Random(3);
  const crops = Array.from({ length: N }, () => {
    const src = random.int(decoded.length);
    const { info } = decoded[src];
    const w = 160 + random.int(Math.max(1, info.width / 2 - 160));
    const h = Math.round((w * 3) / 4);
    return { src, x: random.int(info.width - w), y: random.int(info.height - h), w, h };
  });
  const photoIds = crops.map((_, i) => `photos/img_${String(i).padStart(5, "0")}.jpg`);
  const photos: ImageDataset = {
    kind: "images", name: "photos", source: "photos", fingerprint: "photos", ids: photoIds, labels: null, classNames: null, skipped: [],
    loadImage: async (i): Promise<RawImage> => {
      const c = crops[i];
      const { data, info } = decoded[c.src];
      const out = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .extract({ left: c.x, top: c.y, width: c.w, height: c.h }).resize(160, 120).raw().toBuffer();
      return { data: out, width: 160, height: 120, channels: 3 };
    },
  };
  const pFeatures = Float32Array.from({ length: N * 64 }, () => random.normal());
  const photoRun = join(work, "photos");
  await makeRun(photoRun, {
    ids: photoIds, cluster: Int32Array.from({ length: N }, () => random.int(20)), confidence: Float32Array.from({ length: N }, () => random.next()),
    k: 20, source: "photos", name: "photos (crops)", features: { data: pFeatures, cols: 64 },
  });

  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(join(tmpdir(), "satc-chromium-profile-"));
  t.after(() => rm(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const outDir = process.env.SATC_TEST_OUT ?? join(tmpdir(), "satc-test-out");
  await mkdir(outDir, { recursive: true });
  try {
    const cases: [string, string, Partial<ReportOptions>][] = [
      ["fashion", fashionRun, { dataset: fashion }],
      ["photos", photoRun, { dataset: photos }],
    ];
    for (const [name, dir, base] of cases) {
      for (const mode of ["auto", "embed", "folder"] as const) {
        const started = Date.now();
        const r = await writeReport(dir, { ...base, thumbs: mode });
        const buildSeconds = (Date.now() - started) / 1000;
        const folderBytes = await dirBytes(join(dir, "thumbs"));
        const loads: number[] = [];
        for (let rep = 0; rep < 3; rep++) {
          const page = await context.newPage();
          const t0 = Date.now();
          await page.goto(pathToFileURL(r.path).href, { waitUntil: "load" });
          const wall = Date.now() - t0;
          const nav = await page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])");
          const loadEventEnd = JSON.parse(nav as string).loadEventEnd as number;
          loads.push(Math.round(loadEventEnd));
          if (rep === 0 && mode === "auto") await page.screenshot({ path: join(outDir, `report-10k-${name}.png`) });
          t.diagnostic(`${name}/${mode}: goto wall ${wall} ms, loadEventEnd ${Math.round(loadEventEnd)} ms`);
          await page.close();
        }
        const row = { input: name, mode, thumbnails: r.thumbnails, htmlBytes: r.bytes, thumbsFolderBytes: folderBytes, buildSeconds, loadEventEndMs: loads, mapPoints: r.mapPoints };
        results.push(row);
        t.diagnostic(JSON.stringify(row));
      }
    }
  } finally {
    await context.close();
  }
  await writeFile(join(outDir, "report-10k.json"), JSON.stringify(results, null, 2) + "\n");
});
