/**
 * NumPy `.npy` files: the format satc stores features in, and reads features computed elsewhere from.
 *
 * Reading: header versions 1.0, 2.0 and 3.0; dtypes float32, float64 (little or big endian) and, for
 * label files, int32, int64 and uint8; C order only. Values come back in native byte order.
 * Writing: float32 or int32, C order, little endian, with the header numpy itself writes
 * (byte-identical to `np.save`, including the spare room numpy leaves to grow the first axis,
 * total header length a multiple of 64).
 *
 * Format reference: numpy/lib/format.py ("A Simple File Format for NumPy Arrays").
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SatcError } from "../errors.js";

export type NpyDtype = "float32" | "float64" | "int32" | "int64" | "uint8";

/** Typed array per dtype; int64 stays exact as BigInt64Array. */
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NpyArray {
  /** Values in C (row-major) order, native byte order; data.length = product of shape. */
  data: NpyData;
  shape: number[];
  dtype: NpyDtype;
}

/** What the header of a `.npy` file says, and where the values start. */
export interface NpyHeader {
  version: 1 | 2 | 3;
  dtype: NpyDtype;
  littleEndian: boolean;
  shape: number[];
  /** Byte offset of the first value. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

const ITEM_SIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1 };

/** numpy descr kind+size -> dtype. */
const DESCR: Record<string, NpyDtype> = { f4: "float32", f8: "float64", i4: "int32", i8: "int64", u1: "uint8" };

/** Bytes per value of a dtype. */
export function itemSize(dtype: NpyDtype): number {
  return ITEM_SIZE[dtype];
}

/** Product of the dimensions (1 for a scalar, shape []). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function fail(name: string, problem: string): never {
  throw new SatcError(`${name}: ${problem}`, { file: name });
}

/**
 * Parse the header at the start of `bytes` (at least the first 10 bytes plus the header length;
 * 4096 bytes are enough for every file numpy writes with fewer than ~150 dimensions).
 */
export function parseNpyHeader(bytes: Uint8Array, nameForErrors: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(nameForErrors, "not a .npy file (it does not start with the NumPy magic string \\x93NUMPY)");
  }
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    fail(nameForErrors, `unsupported .npy format version ${major}.${bytes[7]}; expected 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail(nameForErrors, "truncated .npy header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  const dataOffset = start + headerLength;
  if (bytes.length < dataOffset) fail(nameForErrors, `truncated .npy header (needs ${dataOffset} bytes, file has ${bytes.length})`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, dataOffset));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(nameForErrors, `malformed .npy header ${JSON.stringify(text.trim())}`);
  }
  if (fortran === "True") {
    fail(nameForErrors, "the array is stored in Fortran (column-major) order; satc reads C order only — save it with np.save(path, np.ascontiguousarray(a))");
  }
  const order = descr[0];
  const dtype = DESCR[descr.slice(1)];
  const oneByte = dtype !== undefined && ITEM_SIZE[dtype] === 1;
  if (dtype === undefined || !(order === "<" || order === ">" || (order === "|" && oneByte))) {
    fail(nameForErrors, `unsupported dtype '${descr}'; expected float32 or float64 ('<f4', '>f4', '<f8', '>f8'), or int32, int64, uint8 for labels`);
  }
  const shape: number[] = [];
  for (const part of shapeText.split(",")) {
    const t = part.trim();
    if (t === "") continue;
    if (!/^\d+L?$/.test(t)) fail(nameForErrors, `malformed shape (${shapeText}) in .npy header`);
    shape.push(Number.parseInt(t, 10));
  }
  return { version: major, dtype, littleEndian: order !== ">", shape, dataOffset };
}

/** Parse a whole `.npy` file held in memory. The result never shares memory with `bytes`. */
export function parseNpy(bytes: Uint8Array, nameForErrors: string): NpyArray {
  const header = parseNpyHeader(bytes, nameForErrors);
  const { dtype, shape, dataOffset, littleEndian } = header;
  const count = shapeSize(shape);
  const size = ITEM_SIZE[dtype];
  const expectedBytes = count * size;
  const available = bytes.length - dataOffset;
  if (available < expectedBytes) {
    fail(nameForErrors, `truncated .npy data: shape (${shape.join(", ")}) of ${dtype} needs ${expectedBytes} bytes, the file has ${available}`);
  }
  // Copy into a fresh, aligned buffer (Node's Buffers may start at any offset of a shared pool).
  // new Uint8Array(typedArray) copies into a plain Uint8Array with its own buffer at offset 0
  // (bytes.slice would not do: on a Buffer it returns a view).
  const raw = new Uint8Array(bytes.subarray(dataOffset, dataOffset + expectedBytes));
  if (!littleEndian && size > 1) swapBytes(raw, size);
  if (size > 1 && !hostLittleEndian) swapBytes(raw, size); // stored little endian, host big endian
  const buffer = raw.buffer;
  let data: NpyData;
  switch (dtype) {
    case "float32": data = new Float32Array(buffer, 0, count); break;
    case "float64": data = new Float64Array(buffer, 0, count); break;
    case "int32": data = new Int32Array(buffer, 0, count); break;
    case "int64": data = new BigInt64Array(buffer, 0, count); break;
    case "uint8": data = new Uint8Array(buffer, 0, count); break;
  }
  return { data, shape, dtype };
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, size: number): void {
  for (let o = 0; o < b.length; o += size) {
    for (let i = 0, j = size - 1; i < j; i++, j--) {
      const t = b[o + i];
      b[o + i] = b[o + j];
      b[o + j] = t;
    }
  }
}

/** Read a `.npy` file. Errors (missing file, bad header, unsupported dtype) name the file. */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SatcError(`cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  return parseNpy(bytes, path);
}

/** Dtypes satc writes. */
export type NpyWriteData = Float32Array | Int32Array;

function dtypeOf(data: NpyWriteData): NpyDtype {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  throw new TypeError("writeNpy writes Float32Array or Int32Array only");
}

/**
 * The header bytes numpy writes for a C-order little-endian array of this dtype and shape
 * (version 1.0, or 2.0 when the header does not fit in 65535 bytes). Like numpy's, it leaves
 * spare spaces so the first axis can grow to any length without moving the data: a streaming
 * writer can write the header for the final row count up front, or rewrite it in place.
 */
export function npyHeader(dtype: "float32" | "int32", shape: readonly number[]): Uint8Array {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid .npy shape (${shape.join(", ")})`);
  }
  const descr = dtype === "float32" ? "<f4" : "<i4";
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) text += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = text.length + 1; // + "\n"
  for (const version of [1, 2] as const) {
    const prefix = 8 + (version === 1 ? 2 : 4);
    const padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
    const total = hlen + padlen;
    if (version === 1 && total > 0xffff) continue;
    const out = new Uint8Array(prefix + total);
    out.set(MAGIC, 0);
    out[6] = version;
    out[7] = 0;
    const view = new DataView(out.buffer);
    if (version === 1) view.setUint16(8, total, true);
    else view.setUint32(8, total, true);
    out.set(new TextEncoder().encode(text + " ".repeat(padlen) + "\n"), prefix);
    return out;
  }
  throw new RangeError("unreachable: .npy header too long");
}

/** The bytes of a `.npy` file holding `data` with `shape` (C order, little endian). */
export function encodeNpy(data: NpyWriteData, shape: readonly number[]): Uint8Array {
  const dtype = dtypeOf(data) as "float32" | "int32";
  if (shapeSize(shape) !== data.length) {
    throw new RangeError(`shape (${shape.join(", ")}) holds ${shapeSize(shape)} values but data has ${data.length}`);
  }
  const header = npyHeader(dtype, shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(littleEndianBytes(data), header.length);
  return out;
}

/**
 * Write `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
 * A reader sees either the old file or the complete new one, never a partial write.
 * `bytes` may be several chunks, written one after the other (no concatenated copy).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string | readonly Uint8Array[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(tmp, "w");
  try {
    if (typeof bytes === "string" || bytes instanceof Uint8Array) {
      await handle.writeFile(bytes);
    } else {
      for (const chunk of bytes) {
        // fs writes of more than 2 GiB at once fail; write big arrays in slices.
        for (let o = 0; o < chunk.length; o += WRITE_SLICE) {
          const part = chunk.subarray(o, Math.min(chunk.length, o + WRITE_SLICE));
          let written = 0;
          while (written < part.length) written += (await handle.write(part, written, part.length - written)).bytesWritten;
        }
      }
    }
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

const WRITE_SLICE = 1 << 28;

/** The little-endian bytes of `data` (a view when the host is little endian, as on every supported platform). */
function littleEndianBytes(data: NpyWriteData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (hostLittleEndian) return view;
  const copy = new Uint8Array(view);
  swapBytes(copy, 4);
  return copy;
}

/** Write a float32 or int32 array as `.npy` (C order, little endian), atomically. */
export async function writeNpy(path: string, data: NpyWriteData, shape: readonly number[]): Promise<void> {
  const dtype = dtypeOf(data) as "float32" | "int32";
  if (shapeSize(shape) !== data.length) {
    throw new RangeError(`shape (${shape.join(", ")}) holds ${shapeSize(shape)} values but data has ${data.length}`);
  }
  try {
    await writeFileAtomic(path, [npyHeader(dtype, shape), littleEndianBytes(data)]);
  } catch (err) {
    throw new SatcError(`cannot write ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
}
