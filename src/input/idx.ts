/**
 * IDX files (the MNIST / Fashion-MNIST format): a magic number 0x0000 <type> <nDims>, nDims big-endian
 * uint32 sizes, then the values in C order, big endian. Gzipped files are recognised by their content
 * (0x1f 0x8b), whatever their name. Images are (nImages, height, width) uint8; labels (nImages) uint8.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { SatcError } from "../errors.js";
import type { Dataset, ImageDataset, RawImage } from "./dataset.js";
import { readLabelsFile } from "./labels.js";
import { pathExists } from "../util/fs.js";

const gunzipAsync = promisify(gunzip);

export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  /** Sizes of the dimensions, e.g. [nImages, height, width]. */
  shape: number[];
  /** Values in C order, native byte order. */
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: "uint8", size: 1 },
  0x09: { dtype: "int8", size: 1 },
  0x0b: { dtype: "int16", size: 2 },
  0x0c: { dtype: "int32", size: 4 },
  0x0d: { dtype: "float32", size: 4 },
  0x0e: { dtype: "float64", size: 8 },
};

/** Parse uncompressed IDX bytes. */
export function parseIdx(bytes: Uint8Array, nameForErrors: string): IdxArray {
  const fail = (problem: string): never => {
    throw new SatcError(`${nameForErrors}: ${problem}`, { file: nameForErrors });
  };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    fail("not an IDX file (it does not start with the IDX magic number 0x0000)");
  }
  const type = TYPES[bytes[2]];
  if (type === undefined) {
    fail(`unknown IDX value type 0x${bytes[2].toString(16).padStart(2, "0")}; expected 0x08 (uint8), 0x09, 0x0b, 0x0c, 0x0d or 0x0e`);
  }
  const nDims = bytes[3];
  if (nDims === 0) fail("IDX header declares 0 dimensions");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = 4 + 4 * nDims;
  if (bytes.length < offset) fail(`truncated IDX header (${nDims} dimensions need ${offset} bytes, the file has ${bytes.length})`);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < nDims; d++) {
    shape.push(view.getUint32(4 + 4 * d, false));
    count *= shape[d];
  }
  const needed = count * type.size;
  if (bytes.length - offset < needed) {
    fail(`truncated IDX data: shape (${shape.join(", ")}) of ${type.dtype} needs ${needed} bytes after the header, the file has ${bytes.length - offset}`);
  }
  if (bytes.length - offset > needed) {
    fail(`IDX file has ${bytes.length - offset - needed} bytes more than its shape (${shape.join(", ")}) declares`);
  }
  let data: IdxData;
  switch (type.dtype) {
    case "uint8":
      data = new Uint8Array(bytes.subarray(offset, offset + needed)); // a plain copy, not a Buffer view
      break;
    case "int8":
      data = new Int8Array(new Uint8Array(bytes.subarray(offset, offset + needed)).buffer);
      break;
    default: {
      const out = type.dtype === "int16" ? new Int16Array(count)
        : type.dtype === "int32" ? new Int32Array(count)
        : type.dtype === "float32" ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0, o = offset; i < count; i++, o += type.size) {
        out[i] = type.dtype === "int16" ? view.getInt16(o, false)
          : type.dtype === "int32" ? view.getInt32(o, false)
          : type.dtype === "float32" ? view.getFloat32(o, false) : view.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}

/** The bytes of a file, uncompressed when gzipped, and the sha256 of the bytes as stored. */
export async function readMaybeGzip(path: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  let stored: Buffer;
  try {
    stored = await readFile(path);
  } catch (err) {
    throw new SatcError(`cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  const sha256 = createHash("sha256").update(stored).digest("hex");
  if (stored.length >= 2 && stored[0] === 0x1f && stored[1] === 0x8b) {
    try {
      return { bytes: await gunzipAsync(stored), sha256 };
    } catch (err) {
      throw new SatcError(`${path}: cannot decompress gzip data: ${(err as Error).message}`, { file: path, cause: err });
    }
  }
  return { bytes: stored, sha256 };
}

/** Read an IDX file, plain or gzipped. */
export async function readIdx(path: string): Promise<IdxArray & { sha256: string }> {
  const { bytes, sha256 } = await readMaybeGzip(path);
  return { ...parseIdx(bytes, path), sha256 };
}

/** All images of a dataset as one block: data.length = count*height*width*channels, C order. */
export interface PixelBlock {
  data: Uint8Array;
  count: number;
  width: number;
  height: number;
  channels: 1;
}

/** An image dataset whose pixels are all in memory already (IDX, Fashion-MNIST). */
export interface PixelImageDataset extends ImageDataset {
  pixels: PixelBlock;
}

/** True when `dataset` carries its decoded pixels as one block (read it instead of loadImage one by one). */
export function hasPixelBlock(dataset: Dataset): dataset is PixelImageDataset {
  return dataset.kind === "images" && (dataset as Partial<PixelImageDataset>).pixels !== undefined;
}

/** Read an IDX images file as a PixelBlock; `sha256` is the hash of the file as stored. */
export async function readIdxImages(path: string): Promise<{ pixels: PixelBlock; sha256: string }> {
  const array = await readIdx(path);
  if (array.dtype !== "uint8" || array.shape.length !== 3) {
    throw new SatcError(
      `${path}: expected IDX images, uint8 of shape (nImages, height, width), but it holds ${array.dtype} of shape (${array.shape.join(", ")})`,
      { file: path },
    );
  }
  const [count, height, width] = array.shape;
  return { pixels: { data: array.data as Uint8Array, count, width, height, channels: 1 }, sha256: array.sha256 };
}

/** Read an IDX labels file (uint8 or int32, 1-D) as class indices. */
export async function readIdxLabels(path: string, expectedCount?: number): Promise<{ labels: Int32Array; sha256: string }> {
  const array = await readIdx(path);
  if ((array.dtype !== "uint8" && array.dtype !== "int32" && array.dtype !== "int8" && array.dtype !== "int16") || array.shape.length !== 1) {
    throw new SatcError(
      `${path}: expected IDX labels, integers of shape (nImages), but it holds ${array.dtype} of shape (${array.shape.join(", ")})`,
      { file: path },
    );
  }
  const labels = Int32Array.from(array.data as ArrayLike<number>);
  const negative = labels.findIndex((v) => v < 0);
  if (negative >= 0) throw new SatcError(`${path}: label ${negative} is ${labels[negative]}; labels must be non-negative`, { file: path });
  if (expectedCount !== undefined && labels.length !== expectedCount) {
    throw new SatcError(`${path} has ${labels.length} labels but its images file has ${expectedCount} images`, { file: path });
  }
  return { labels, sha256: array.sha256 };
}

/** Image i of a block as a RawImage (a copy). */
export function pixelBlockImage(block: PixelBlock, i: number): RawImage {
  const size = block.width * block.height * block.channels;
  if (!Number.isInteger(i) || i < 0 || i >= block.count) {
    throw new RangeError(`image index ${i} is out of range 0..${block.count - 1}`);
  }
  return { data: new Uint8Array(block.data.subarray(i * size, (i + 1) * size)), width: block.width, height: block.height, channels: block.channels };
}

/** Names the labels file of an images file would have: "train-images-idx3-ubyte.gz" -> "train-labels-idx1-ubyte(.gz)". */
export function labelsFileCandidates(imagesPath: string): string[] {
  const name = basename(imagesPath);
  const stem = name.replace(/\.gz$/i, "");
  const labelStem = stem.replace(/images/i, (m) => (m === "IMAGES" ? "LABELS" : "labels")).replace(/idx3/i, "idx1");
  if (labelStem === stem) return [];
  return [labelStem, `${labelStem}.gz`].map((n) => join(dirname(imagesPath), n));
}

export interface IdxOptions {
  /** Labels file (IDX, `.npy` or text). Default: the matching "*-labels-idx1-ubyte[.gz]" beside the images, if present. */
  labels?: string;
}

function isIdxName(path: string): boolean {
  return /ubyte(\.gz)?$|\.idx\d?(\.gz)?$/i.test(path);
}

/** Open an IDX images file (with its labels when found) as an image dataset; ids are "00000", "00001", ... */
export async function openIdx(imagesPath: string, options: IdxOptions = {}): Promise<PixelImageDataset> {
  const { pixels, sha256 } = await readIdxImages(imagesPath);
  let labelsPath = options.labels;
  if (labelsPath === undefined) {
    for (const candidate of labelsFileCandidates(imagesPath)) {
      if (await pathExists(candidate)) {
        labelsPath = candidate;
        break;
      }
    }
  }
  let labels: Int32Array | null = null;
  let classNames: string[] | null = null;
  const hashes = [sha256];
  if (labelsPath !== undefined) {
    if (isIdxName(labelsPath)) {
      const read = await readIdxLabels(labelsPath, pixels.count);
      labels = read.labels;
      hashes.push(read.sha256);
    } else {
      const set = await readLabelsFile(labelsPath, pixels.count, imagesPath);
      labels = set.labels;
      classNames = set.classNames;
      hashes.push(createHash("sha256").update(await readFile(labelsPath)).digest("hex"));
    }
  }
  const digits = Math.max(5, String(pixels.count - 1).length);
  return {
    kind: "images",
    name: basename(imagesPath).replace(/\.gz$/i, ""),
    source: imagesPath,
    fingerprint: `sha256:${createHash("sha256").update(hashes.join(",")).digest("hex")}`,
    ids: Array.from({ length: pixels.count }, (_, i) => String(i).padStart(digits, "0")),
    labels,
    classNames,
    skipped: [],
    pixels,
    loadImage: async (i: number) => pixelBlockImage(pixels, i),
  };
}
