/**
 * Benchmark images for the encoder benchmarks: Fashion-MNIST test images (28x28 gray) upsampled
 * to 256x256 and coloured (a per-image tint on a per-image two-colour gradient background, so the
 * three channels differ), written once as JPEG (quality 90, 4:2:0) to
 * `bench/out/encode-images/<n>/<00000>.jpg`. Image i uses Fashion-MNIST test image i mod 10,000
 * and a Random seeded with i, so a folder is the same on every machine. A folder already holding
 * n JPEGs is reused.
 *
 *   node dist/bench/encode_images.js [--n 256]
 */
import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { openFashionMnist } from "../src/input/fashionMnist.js";
import { Random } from "../src/util/random.js";

export const BENCH_IMAGE_SIDE = 256;

/** Repository root (dist/bench/ -> ../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const BENCH_OUT = join(REPO_ROOT, "bench", "out");

/** The folder of `n` benchmark JPEGs, written now when missing. */
export async function benchImages(n: number, onProgress?: (done: number) => void): Promise<string> {
  const dir = join(BENCH_OUT, "encode-images", String(n));
  await mkdir(dir, { recursive: true });
  const have = new Set((await readdir(dir)).filter((f) => f.endsWith(".jpg")));
  const name = (i: number) => `${String(i).padStart(5, "0")}.jpg`;
  if (Array.from({ length: n }, (_, i) => name(i)).every((f) => have.has(f))) return dir;
  const fm = await openFashionMnist("test");
  const S = BENCH_IMAGE_SIDE;
  for (let i = 0; i < n; i++) {
    if (have.has(name(i))) continue;
    const src = await fm.loadImage(i % fm.ids.length);
    const big = await sharp(Buffer.from(src.data), { raw: { width: src.width, height: src.height, channels: 1 } })
      .resize(S, S, { kernel: "lanczos3" })
      .raw()
      .toBuffer();
    const rng = new Random(i);
    const tint = [rng.next(), rng.next(), rng.next()];
    const bgA = [rng.next(), rng.next(), rng.next()];
    const bgB = [rng.next(), rng.next(), rng.next()];
    const rgb = new Uint8Array(S * S * 3);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const p = y * S + x;
        const v = big[p] / 255;
        const t = (x + y) / (2 * S - 2);
        for (let c = 0; c < 3; c++) {
          const bg = bgA[c] * (1 - t) + bgB[c] * t;
          rgb[3 * p + c] = Math.round(255 * (v * tint[c] + (1 - v) * bg));
        }
      }
    const jpeg = await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const tmp = join(dir, `${name(i)}.part`);
    await writeFile(tmp, jpeg);
    await rename(tmp, join(dir, name(i)));
    if ((i + 1) % 500 === 0) onProgress?.(i + 1);
  }
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--n");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 256;
  console.log(await benchImages(n, (d) => console.error(`${d}/${n} images written`)));
}
