/**
 * Fashion-MNIST (Xiao et al. 2017; 70,000 28x28 grayscale images, 10 classes, MIT licence) by spec:
 * `fashion-mnist:train` (60,000), `fashion-mnist:test` (10,000) or `fashion-mnist:all` (train then test).
 * The four IDX files are looked up where Debian's `dataset-fashion-mnist` installs them, or in `dataDir`,
 * under their standard names, gzipped or not.
 */
import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { SatcError, UsageError, expected } from "../errors.js";
import { pixelBlockImage, readIdxImages, readIdxLabels, type PixelBlock, type PixelImageDataset } from "./idx.js";

/** Where `apt-get install dataset-fashion-mnist` puts the files (`dpkg -L dataset-fashion-mnist`). */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Class names in label order, as published with the dataset. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]);

export type FashionMnistSplit = "train" | "test" | "all";
export const FASHION_MNIST_SPLITS: readonly FashionMnistSplit[] = ["train", "test", "all"];

const FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
} as const;

export interface FashionMnistOptions {
  /** Folder holding the four IDX files (gz or not). Default: DEBIAN_FASHION_MNIST_DIR. */
  dataDir?: string;
}

/** "fashion-mnist:test" -> "test"; null when `source` is not a fashion-mnist spec. Throws on a bad split. */
export function parseFashionMnistSpec(source: string): FashionMnistSplit | null {
  const m = /^fashion-?mnist(?::(.*))?$/i.exec(source);
  if (m === null) return null;
  const split = m[1] ?? "";
  if (!(FASHION_MNIST_SPLITS as readonly string[]).includes(split)) {
    throw new UsageError(expected("fashion-mnist:train, fashion-mnist:test or fashion-mnist:all", "the input", source));
  }
  return split as FashionMnistSplit;
}

async function findFile(dir: string, name: string, spec: string): Promise<string> {
  for (const candidate of [join(dir, `${name}.gz`), join(dir, name)]) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new SatcError(
    `${spec}: cannot find ${name} or ${name}.gz in ${dir}. ` +
      `Install the dataset with 'apt-get install dataset-fashion-mnist' (it puts the files in ${DEBIAN_FASHION_MNIST_DIR}), ` +
      `or pass --data-dir with a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, ` +
      `t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (gzipped or not)`,
    { file: join(dir, name) },
  );
}

/** Open a Fashion-MNIST split. Ids are "train/00042", "test/00007"; pixels are (n, 28, 28) uint8. */
export async function openFashionMnist(split: FashionMnistSplit, options: FashionMnistOptions = {}): Promise<PixelImageDataset> {
  const spec = `fashion-mnist:${split}`;
  const dir = options.dataDir ?? DEBIAN_FASHION_MNIST_DIR;
  const parts: ("train" | "test")[] = split === "all" ? ["train", "test"] : [split];
  // Find every file before reading any, so a missing one is reported at once.
  const paths = [];
  for (const part of parts) {
    paths.push({
      part,
      images: await findFile(dir, FILES[part].images, spec),
      labels: await findFile(dir, FILES[part].labels, spec),
    });
  }
  const loaded = await Promise.all(paths.map(async (p) => {
    const images = await readIdxImages(p.images);
    const labels = await readIdxLabels(p.labels, images.pixels.count);
    if (images.pixels.width !== 28 || images.pixels.height !== 28) {
      throw new SatcError(`${p.images}: Fashion-MNIST images are 28x28 but this file holds ${images.pixels.width}x${images.pixels.height}`, { file: p.images });
    }
    const bad = labels.labels.findIndex((v) => v >= FASHION_MNIST_CLASSES.length);
    if (bad >= 0) throw new SatcError(`${p.labels}: label ${bad} is ${labels.labels[bad]}; Fashion-MNIST labels are 0..9`, { file: p.labels });
    return { ...p, images, labels };
  }));

  const count = loaded.reduce((s, l) => s + l.images.pixels.count, 0);
  const pixels: PixelBlock = loaded.length === 1
    ? loaded[0].images.pixels
    : { data: concatBytes(loaded.map((l) => l.images.pixels.data)), count, width: 28, height: 28, channels: 1 };
  const labels = new Int32Array(count);
  const ids: string[] = [];
  let offset = 0;
  for (const l of loaded) {
    labels.set(l.labels.labels, offset);
    offset += l.labels.labels.length;
    for (let i = 0; i < l.images.pixels.count; i++) ids.push(`${l.part}/${String(i).padStart(5, "0")}`);
  }
  const fingerprint = createHash("sha256")
    .update(loaded.map((l) => `${l.part}:${l.images.sha256}:${l.labels.sha256}`).join(","))
    .digest("hex");
  return {
    kind: "images",
    name: spec,
    source: spec,
    fingerprint: `sha256:${fingerprint}`,
    ids,
    labels,
    classNames: [...FASHION_MNIST_CLASSES],
    skipped: [],
    pixels,
    loadImage: async (i: number) => pixelBlockImage(pixels, i),
  };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
