/**
 * STL-10 binary format (https://cs.stanford.edu/~acoates/stl10/): stl10_binary/
 * {train_X.bin, train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin, class_names.txt}.
 * X files: uint8, per image 3 x 96 x 96 in column-major order (channel planes, each stored column by
 * column, as MATLAB writes them); y files: one uint8 label per image, 1..10 (satc uses 0..9).
 * Images are read from disk on demand (unlabeled_X.bin is 2.7 GB).
 */
import { createHash } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ImageDataset, RawImage } from "./dataset.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { pathExists } from "../util/fs.js";

export const STL10_SIDE = 96;
const IMAGE_BYTES = 3 * STL10_SIDE * STL10_SIDE;

export interface Stl10Options {
  split?: "train" | "test" | "unlabeled";
}

/** The folder holding STL-10's binary files (`dir` or `dir/stl10_binary`), or null. */
export async function detectStl10(dir: string): Promise<string | null> {
  for (const d of [dir, join(dir, "stl10_binary")]) if ((await pathExists(join(d, "test_X.bin"))) || (await pathExists(join(d, "train_X.bin")))) return d;
  return null;
}

/** One image from its column-major 3x96x96 block -> (96, 96, 3) interleaved rows. */
export function stlImage(block: Uint8Array): RawImage {
  const s = STL10_SIDE;
  const out = new Uint8Array(IMAGE_BYTES);
  for (let c = 0; c < 3; c++)
    for (let x = 0; x < s; x++)
      for (let y = 0; y < s; y++) out[(y * s + x) * 3 + c] = block[c * s * s + x * s + y];
  return { data: out, width: s, height: s, channels: 3 };
}

export async function openStl10(dir: string, options: Stl10Options = {}): Promise<ImageDataset> {
  const split = options.split ?? "train";
  if (!["train", "test", "unlabeled"].includes(split)) throw new UsageError(expected("'train', 'test' or 'unlabeled'", "split", split));
  const folder = await detectStl10(dir);
  if (folder === null) throw new SatcError(`${dir}: not an STL-10 folder (expected stl10_binary/train_X.bin or test_X.bin)`, { file: dir });
  const xPath = join(folder, `${split}_X.bin`);
  if (!(await pathExists(xPath))) throw new SatcError(`${xPath}: missing STL-10 file`, { file: xPath });
  const size = (await stat(xPath)).size;
  if (size % IMAGE_BYTES !== 0) throw new SatcError(`${xPath}: ${size} bytes is not a whole number of ${IMAGE_BYTES}-byte images`, { file: xPath });
  const n = size / IMAGE_BYTES;
  let labels: Int32Array | null = null;
  if (split !== "unlabeled") {
    const yPath = join(folder, `${split}_y.bin`);
    const y = new Uint8Array(await readFile(yPath));
    if (y.length !== n) throw new SatcError(`${yPath}: ${y.length} labels for ${n} images`, { file: yPath });
    const bad = y.findIndex((v) => v < 1 || v > 10);
    if (bad >= 0) throw new SatcError(`${yPath}: label ${y[bad]} of image ${bad} is outside 1..10`, { file: yPath });
    labels = Int32Array.from(y, (v) => v - 1);
  }
  let classNames: string[] | null = null;
  try {
    classNames = (await readFile(join(folder, "class_names.txt"), "utf8")).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  } catch {
    classNames = null;
  }
  const handle = await open(xPath, "r");
  const head = new Uint8Array(Math.min(size, 4096));
  await handle.read(head, 0, head.length, 0);
  return {
    kind: "images",
    name: `stl10:${split}`,
    source: dir,
    fingerprint: createHash("sha256").update(`${split}:${size}`).update(head).digest("hex"),
    ids: Array.from({ length: n }, (_, i) => `${split}/${String(i).padStart(6, "0")}`),
    labels,
    classNames,
    skipped: [],
    async loadImage(i: number): Promise<RawImage> {
      const block = new Uint8Array(IMAGE_BYTES);
      await handle.read(block, 0, IMAGE_BYTES, i * IMAGE_BYTES);
      return stlImage(block);
    },
  };
}
