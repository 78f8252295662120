/**
 * One entry point for every input: `openDataset(source)` picks the reader from the source's form.
 *   fashion-mnist:train | fashion-mnist:test | fashion-mnist:all   the Fashion-MNIST IDX files
 *   a folder                                                       images, recursively (folder.ts)
 *   *.npy                                                          a feature matrix (npy.ts)
 *   *-ubyte, *.idx3-ubyte, *.idx (optionally .gz)                  IDX images, labels found beside them (idx.ts)
 *   cifar10:<split> | cifar100:<split> | cifar100-20:<split>       CIFAR batches in --data-dir (cifar.ts; -20: superclasses)
 *   stl10:train | stl10:test | stl10:unlabeled                     STL-10 binary files in --data-dir (stl10.ts)
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { SatcError, UsageError, expected } from "../errors.js";
import type { Dataset } from "./dataset.js";
import { openFashionMnist, parseFashionMnistSpec } from "./fashionMnist.js";
import { openImageFolder, type FolderValidation, type ScanProgress } from "./folder.js";
import { openIdx } from "./idx.js";
import { openNpyFeatures } from "./npy.js";
import { detectCifar, openCifar } from "./cifar.js";
import { detectStl10, openStl10 } from "./stl10.js";

export type { Dataset, FeatureDataset, ImageDataset, RawImage, SkippedItem } from "./dataset.js";
export { hasPixelBlock, type PixelBlock, type PixelImageDataset } from "./idx.js";
export { FASHION_MNIST_CLASSES, DEBIAN_FASHION_MNIST_DIR } from "./fashionMnist.js";

export interface OpenDatasetOptions {
  /** Folder with the Fashion-MNIST IDX files (for fashion-mnist:* specs). */
  dataDir?: string;
  /** Labels file for .npy and IDX inputs (.npy of integers, IDX labels, or text with one label per line). */
  labels?: string;
  /** How a folder's images are checked before the run (default "metadata"). */
  validate?: FolderValidation;
  onProgress?: (event: ScanProgress) => void;
}

/** What openDataset accepts, for messages and --help. */
export const ACCEPTED_INPUTS =
  "fashion-mnist:train|test|all, cifar10:train|test, cifar100:train|test, cifar100-20:train|test, " +
  "stl10:train|test|unlabeled, a folder of images, a .npy feature matrix, or an IDX images file (*-idx3-ubyte, optionally .gz)";

const BENCHMARK_SPEC = /^(cifar10|cifar100|cifar100-20|stl10):(.+)$/;

/** The paper's benchmark datasets, read from their standard files in `dataDir`. */
async function openBenchmark(source: string, name: string, split: string, dataDir: string | undefined): Promise<Dataset> {
  if (dataDir === undefined) {
    const layout = name === "stl10" ? "stl10_binary/" : name === "cifar10" ? "cifar-10-batches-py/ or cifar-10-batches-bin/" : "cifar-100-python/ or cifar-100-binary/";
    throw new UsageError(`${source} needs --data-dir <folder> holding ${layout} (the dataset's standard download, unpacked)`);
  }
  if (name === "stl10") return openStl10(dataDir, { split: split as "train" });
  // A download folder may hold both CIFAR-10 and CIFAR-100: pick the one the spec names.
  const want = name === "cifar10" ? "10" : "100";
  for (const dir of [...CIFAR_FOLDERS[want].map((f) => join(dataDir, f)), dataDir]) {
    const found = await detectCifar(dir);
    if (found && found.kind.startsWith(`${want}-`)) {
      return openCifar(found.dir, { split: split as "train", labels: name === "cifar100-20" ? "coarse" : "fine" });
    }
  }
  throw new SatcError(`${dataDir}: no CIFAR-${want} files for ${source} (expected ${CIFAR_FOLDERS[want].join(" or ")} inside it)`, { file: dataDir });
}

const CIFAR_FOLDERS = { "10": ["cifar-10-batches-py", "cifar-10-batches-bin"], "100": ["cifar-100-python", "cifar-100-binary"] } as const;

/** The spec name of a detected CIFAR layout ("10-py" -> "cifar10"). */
const cifarSpec = (kind: string) => `cifar${kind.split("-")[0]}`;

const IDX_NAME = /(ubyte|\.idx\d?)(\.gz)?$/i;

/** Open `source` (a spec or a path) as a Dataset. */
export async function openDataset(source: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  if (source.trim() === "") throw new UsageError(expected(ACCEPTED_INPUTS, "the input", source));
  const split = parseFashionMnistSpec(source);
  if (split !== null) {
    if (options.labels !== undefined) throw new UsageError(`--labels does not apply to ${source}: Fashion-MNIST brings its own labels`);
    return openFashionMnist(split, { dataDir: options.dataDir });
  }
  const benchmark = BENCHMARK_SPEC.exec(source);
  if (benchmark) return openBenchmark(source, benchmark[1], benchmark[2], options.dataDir);
  const s = await stat(source).catch(() => null);
  if (s === null) {
    const looksLikeSpec = /^[a-z][a-z0-9_-]+:/i.test(source);
    throw new UsageError(
      looksLikeSpec
        ? `unknown dataset spec '${source}'; expected ${ACCEPTED_INPUTS}`
        : `input '${source}' does not exist; expected ${ACCEPTED_INPUTS}`,
    );
  }
  if (s.isDirectory()) {
    if (options.labels !== undefined) {
      throw new UsageError(`--labels does not apply to a folder (${source}): its labels come from the names of its sub-folders`);
    }
    const cifar = await detectCifar(source);
    const stl = cifar ? null : await detectStl10(source);
    if (cifar || stl) {
      const spec = stl ? "stl10" : cifarSpec(cifar!.kind);
      throw new UsageError(`${source} holds ${spec} batch files, not images; use ${spec}:train or ${spec}:test with --data-dir ${source}`);
    }
    return openImageFolder(source, { validate: options.validate, onProgress: options.onProgress });
  }
  if (/\.npy$/i.test(source)) return openNpyFeatures(source, { labels: options.labels });
  if (IDX_NAME.test(source)) return openIdx(source, { labels: options.labels });
  throw new UsageError(`cannot tell what kind of input '${source}' is; expected ${ACCEPTED_INPUTS}`);
}

/** Throws UsageError when `k` clusters cannot be formed from the dataset's items. */
export function checkClusterCount(dataset: Dataset, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(expected("a positive integer", "k", k));
  const n = dataset.ids.length;
  if (k > n) {
    throw new UsageError(
      `k=${k} is larger than the number of items n=${n} in ${dataset.source}` +
        (dataset.skipped.length > 0 ? ` (${dataset.skipped.length} unreadable item${dataset.skipped.length === 1 ? "" : "s"} skipped)` : ""),
    );
  }
}
