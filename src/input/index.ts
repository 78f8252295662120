/**
 * One entry point for every input: `openDataset(source)` picks the reader from the source's form.
 *   fashion-mnist:train | fashion-mnist:test | fashion-mnist:all   the Fashion-MNIST IDX files
 *   a folder                                                       images, recursively (folder.ts)
 *   *.npy                                                          a feature matrix (npy.ts)
 *   *-ubyte, *.idx3-ubyte, *.idx (optionally .gz)                  IDX images, labels found beside them (idx.ts)
 */
import { stat } from "node:fs/promises";
import { UsageError, expected } from "../errors.js";
import type { Dataset } from "./dataset.js";
import { openFashionMnist, parseFashionMnistSpec } from "./fashionMnist.js";
import { openImageFolder, type FolderValidation, type ScanProgress } from "./folder.js";
import { openIdx } from "./idx.js";
import { openNpyFeatures } from "./npy.js";

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
  "fashion-mnist:train, fashion-mnist:test, fashion-mnist:all, a folder of images, " +
  "a .npy feature matrix, or an IDX images file (*-idx3-ubyte, optionally .gz)";

const IDX_NAME = /(ubyte|\.idx\d?)(\.gz)?$/i;

/** Open `source` (a spec or a path) as a Dataset. */
export async function openDataset(source: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  if (source.trim() === "") throw new UsageError(expected(ACCEPTED_INPUTS, "the input", source));
  const split = parseFashionMnistSpec(source);
  if (split !== null) {
    if (options.labels !== undefined) throw new UsageError(`--labels does not apply to ${source}: Fashion-MNIST brings its own labels`);
    return openFashionMnist(split, { dataDir: options.dataDir });
  }
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
