/**
 * CIFAR-10 and CIFAR-100 in their published formats (https://www.cs.toronto.edu/~kriz/cifar.html):
 * - python batches: cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta},
 *   cifar-100-python/{train, test, meta}: pickled dicts with `data` (n, 3072) uint8 (1024 R, 1024 G,
 *   1024 B, row-major 32x32 planes), `labels` (CIFAR-10) or `fine_labels`/`coarse_labels` (CIFAR-100).
 * - binary batches: cifar-10-batches-bin/{data_batch_1..5.bin, test_batch.bin, batches.meta.txt}
 *   with records <label><3072 bytes>, cifar-100-binary/{train.bin, test.bin, fine_label_names.txt,
 *   coarse_label_names.txt} with records <coarse><fine><3072 bytes>.
 * The folder given may be the batches folder itself or the folder containing it.
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ImageDataset, RawImage } from "./dataset.js";
import { SatcError, UsageError, expected } from "../errors.js";
import { readPickle, type PickledArray } from "./pickle.js";
import { pathExists } from "../util/fs.js";

export interface CifarOptions {
  split?: "train" | "test";
  /** CIFAR-100 only: "fine" (100 classes, default) or "coarse" (20 superclasses). */
  labels?: "fine" | "coarse";
}

const LAYOUTS = [
  { kind: "10-py", folder: "cifar-10-batches-py", train: ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"], test: ["test_batch"] },
  { kind: "100-py", folder: "cifar-100-python", train: ["train"], test: ["test"] },
  { kind: "10-bin", folder: "cifar-10-batches-bin", train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"], test: ["test_batch.bin"] },
  { kind: "100-bin", folder: "cifar-100-binary", train: ["train.bin"], test: ["test.bin"] },
] as const;

/** Which CIFAR layout `dir` holds, and the folder with the batch files; null when none. */
export async function detectCifar(dir: string): Promise<{ kind: (typeof LAYOUTS)[number]["kind"]; dir: string } | null> {
  for (const l of LAYOUTS) {
    for (const d of [dir, join(dir, l.folder)]) if (await pathExists(join(d, l.test[0]))) return { kind: l.kind, dir: d };
  }
  return null;
}

function textLines(s: string): string[] {
  return s.split(/\r?\n/).map((x) => x.trim()).filter((x) => x.length > 0);
}

function toStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString("latin1") : String(x))) : [];
}

export async function openCifar(dir: string, options: CifarOptions = {}): Promise<ImageDataset> {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test") throw new UsageError(expected("'train' or 'test'", "split", split));
  const found = await detectCifar(dir);
  if (found === null) {
    throw new SatcError(`${dir}: not a CIFAR folder (expected one of ${LAYOUTS.map((l) => `${l.folder}/${l.test[0]}`).join(", ")})`, { file: dir });
  }
  const layout = LAYOUTS.find((l) => l.kind === found.kind)!;
  const is100 = found.kind.startsWith("100");
  const labelKind = options.labels ?? "fine";
  if (labelKind !== "fine" && labelKind !== "coarse") throw new UsageError(expected("'fine' or 'coarse'", "labels", labelKind));
  if (!is100 && labelKind === "coarse") throw new UsageError("coarse labels (20 superclasses) exist only for CIFAR-100");
  const files = split === "train" ? layout.train : layout.test;
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  const hash = createHash("sha256").update(found.kind + split + labelKind);
  for (const f of files) {
    const path = join(found.dir, f);
    if (!(await pathExists(path))) throw new SatcError(`${path}: missing CIFAR batch file`, { file: path });
    const bytes = new Uint8Array(await readFile(path));
    hash.update(`${f}:${bytes.length}`).update(bytes.subarray(0, 4096));
    if (found.kind.endsWith("bin")) {
      const rec = 3072 + (is100 ? 2 : 1);
      if (bytes.length % rec !== 0) throw new SatcError(`${path}: ${bytes.length} bytes is not a whole number of ${rec}-byte records`, { file: path });
      for (let o = 0; o < bytes.length; o += rec) {
        labels.push(is100 ? bytes[o + (labelKind === "coarse" ? 0 : 1)] : bytes[o]);
        pixels.push(bytes.subarray(o + rec - 3072, o + rec));
      }
    } else {
      const d = readPickle(bytes, path);
      if (!(d instanceof Map)) throw new SatcError(`${path}: expected a pickled dict`, { file: path });
      const data = d.get("data") as PickledArray | undefined;
      const key = is100 ? (labelKind === "coarse" ? "coarse_labels" : "fine_labels") : "labels";
      const lab = d.get(key) as number[] | undefined;
      if (!data?.ndarray || data.dtype !== "u1" || data.shape.length !== 2 || data.shape[1] !== 3072 || !Array.isArray(lab)) {
        throw new SatcError(`${path}: expected 'data' (n, 3072) uint8 and '${key}' in the pickled dict`, { file: path });
      }
      if (lab.length !== data.shape[0]) throw new SatcError(`${path}: ${lab.length} labels for ${data.shape[0]} images`, { file: path });
      for (let i = 0; i < data.shape[0]; i++) pixels.push(data.data.subarray(i * 3072, (i + 1) * 3072));
      labels.push(...lab.map(Number));
    }
  }
  let classNames: string[] | null = null;
  try {
    if (found.kind === "10-py") classNames = toStrings((readPickle(new Uint8Array(await readFile(join(found.dir, "batches.meta")))) as Map<string, unknown>).get("label_names"));
    else if (found.kind === "100-py") classNames = toStrings((readPickle(new Uint8Array(await readFile(join(found.dir, "meta")))) as Map<string, unknown>).get(labelKind === "coarse" ? "coarse_label_names" : "fine_label_names"));
    else if (found.kind === "10-bin") classNames = textLines(await readFile(join(found.dir, "batches.meta.txt"), "utf8"));
    else classNames = textLines(await readFile(join(found.dir, labelKind === "coarse" ? "coarse_label_names.txt" : "fine_label_names.txt"), "utf8"));
  } catch {
    classNames = null;
  }
  if (classNames !== null && classNames.length === 0) classNames = null;
  const name = `cifar${is100 ? "100" : "10"}:${split}${is100 && labelKind === "coarse" ? ":coarse" : ""}`;
  return {
    kind: "images",
    name,
    source: dir,
    fingerprint: hash.digest("hex"),
    ids: pixels.map((_, i) => `${split}/${String(i).padStart(5, "0")}`),
    labels: Int32Array.from(labels),
    classNames,
    skipped: [],
    async loadImage(i: number): Promise<RawImage> {
      return planarToInterleaved(pixels[i], 32, 32);
    },
  };
}

/** (3, h, w) planar -> (h, w, 3) interleaved. */
export function planarToInterleaved(planes: Uint8Array, width: number, height: number): RawImage {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[3 * p] = planes[p];
    out[3 * p + 1] = planes[n + p];
    out[3 * p + 2] = planes[2 * n + p];
  }
  return { data: out, width, height, channels: 3 };
}

/** Names of the files in a folder (helper for error messages). */
export async function listFolder(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
