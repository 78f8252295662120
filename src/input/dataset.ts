/**
 * The one shape every input reader returns. A dataset is either images (decoded on demand) or a
 * feature matrix computed elsewhere; both have stable ids and optional labels.
 */
import type { Matrix } from "../util/matrix.js";

/** Decoded 8-bit pixels, row-major, interleaved channels: data.length = width*height*channels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** An item that could not be read and was left out of the run (listed in the run's output). */
export interface SkippedItem {
  id: string;
  reason: string;
}

interface DatasetBase {
  /** Short name for reports, e.g. "fashion-mnist:test" or the folder's base name. */
  name: string;
  /** What the user pointed at (path or spec), as given. */
  source: string;
  /** Stable identity of the input for the feature cache (e.g. hash of paths+sizes+mtimes, or of file bytes). */
  fingerprint: string;
  /** One id per item, stable across runs (relative path, "train/00042", row number). */
  ids: string[];
  /** Class index per item, or null when the input has no labels. */
  labels: Int32Array | null;
  /** Name of each class index, when known. */
  classNames: string[] | null;
  /** Items that were found but could not be read. */
  skipped: SkippedItem[];
}

export interface ImageDataset extends DatasetBase {
  kind: "images";
  /** Decode image i (0 <= i < ids.length). */
  loadImage(i: number): Promise<RawImage>;
  /** Path of image i on disk, when the images are files (for thumbnails and export). */
  path?(i: number): string;
}

export interface FeatureDataset extends DatasetBase {
  kind: "features";
  /** (nSamples, nFeatures). */
  features: Matrix;
}

export type Dataset = ImageDataset | FeatureDataset;
