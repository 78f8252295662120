/**
 * Label files that go with a feature matrix or an image list: a `.npy` of integers (or of floats that
 * hold integers), or a text file with one label per line — integers, or class names.
 */
import { readFile } from "node:fs/promises";
import { SatcError } from "../errors.js";
import { parseNpy } from "../features/npy.js";

export interface LabelSet {
  /** Class index per item, (nItems). */
  labels: Int32Array;
  /** Names of the class indices when the file gave names, else null. */
  classNames: string[] | null;
}

const MAX_LABEL = 2 ** 31 - 1;

/**
 * Read labels from `path`. `expectedCount`, when given, is the number of items they must cover;
 * `itemsSource` names those items in the mismatch message.
 */
export async function readLabelsFile(path: string, expectedCount?: number, itemsSource?: string): Promise<LabelSet> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SatcError(`cannot read labels file ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  const set = path.toLowerCase().endsWith(".npy") ? labelsFromNpy(bytes, path) : labelsFromText(bytes.toString("utf8"), path);
  if (expectedCount !== undefined && set.labels.length !== expectedCount) {
    throw new SatcError(
      `labels file ${path} has ${set.labels.length} labels but ${itemsSource ?? "the input"} has ${expectedCount} items`,
      { file: path },
    );
  }
  return set;
}

function labelsFromNpy(bytes: Uint8Array, path: string): LabelSet {
  const array = parseNpy(bytes, path);
  const { shape, data } = array;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw new SatcError(`labels file ${path}: expected a 1-D array (n,) or (n, 1) but its shape is (${shape.join(", ")})`, { file: path });
  }
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < 0 || v > MAX_LABEL) {
      throw new SatcError(
        `labels file ${path}: label ${i} is ${data[i]}; labels must be non-negative integers (dtype ${array.dtype})`,
        { file: path },
      );
    }
    labels[i] = v;
  }
  return { labels, classNames: null };
}

function labelsFromText(text: string, path: string): LabelSet {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const blank = lines.indexOf("");
  if (blank >= 0) {
    throw new SatcError(`labels file ${path}: line ${blank + 1} is empty; expected one label per line`, { file: path });
  }
  if (lines.length > 0 && lines.every((l) => /^\d+$/.test(l))) {
    const labels = new Int32Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const v = Number(lines[i]);
      if (v > MAX_LABEL) throw new SatcError(`labels file ${path}: line ${i + 1} holds ${lines[i]}, too large for a class index`, { file: path });
      labels[i] = v;
    }
    return { labels, classNames: null };
  }
  const classNames = [...new Set(lines)].sort(compareCodePoints);
  const index = new Map(classNames.map((name, i) => [name, i]));
  return { labels: Int32Array.from(lines, (l) => index.get(l)!), classNames };
}

/** Locale-independent string order (so ids and class names sort the same on every machine). */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
