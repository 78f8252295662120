/**
 * Write a float32 .npy of known shape row block by row block, so encoding N images never holds
 * more than one batch in memory, and so an interrupted run can resume.
 *
 * The file is `<path>.partial` (a valid .npy with its final shape from the start; rows not yet
 * written are zeros) until `finish()` renames it to `<path>`. Progress (rows written, and a key
 * saying what is being written) is kept in `<path>.partial.json`, updated after each block is
 * on disk; `openRowWriter` with the same key continues from there.
 */
import { open, readFile, rename, rm, writeFile, type FileHandle } from "node:fs/promises";
import { npyHeader } from "./npy.js";

export interface RowWriter {
  path: string;
  /** Rows already on disk when opened (resume point) and now. */
  rowsDone: number;
  /** Write `rows` rows starting at row `start` (rows must follow each other). */
  writeRows(start: number, data: Float32Array): Promise<void>;
  /** Close, rename .partial to the final name and drop the progress file. */
  finish(): Promise<void>;
  /** Close without finishing (the partial file and its progress stay for a resume). */
  close(): Promise<void>;
}

interface Progress {
  key: string;
  shape: number[];
  rowsDone: number;
}

/**
 * Open `<path>.partial` for shape (rows, ...rowShape). When a partial file with the same key and
 * shape exists, continue after its last complete block; otherwise start afresh.
 */
export async function openRowWriter(path: string, shape: readonly number[], key: string): Promise<RowWriter> {
  const partial = `${path}.partial`;
  const progressPath = `${partial}.json`;
  const header = npyHeader("float32", shape);
  const rowFloats = shape.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = rowFloats * 4;
  let rowsDone = 0;
  let handle: FileHandle | null = null;
  try {
    const p = JSON.parse(await readFile(progressPath, "utf8")) as Progress;
    if (p.key === key && JSON.stringify(p.shape) === JSON.stringify([...shape])) {
      handle = await open(partial, "r+");
      rowsDone = p.rowsDone;
    }
  } catch {
    // no usable progress: start afresh
  }
  if (handle === null) {
    await rm(progressPath, { force: true });
    handle = await open(partial, "w+");
    await handle.write(header, 0, header.length, 0);
    await handle.truncate(header.length + shape[0] * rowBytes);
  }
  const h = handle;
  const saveProgress = async (rows: number) => {
    const p: Progress = { key, shape: [...shape], rowsDone: rows };
    await writeFile(`${progressPath}.tmp`, JSON.stringify(p));
    await rename(`${progressPath}.tmp`, progressPath);
  };
  const writer: RowWriter = {
    path,
    rowsDone,
    async writeRows(start, data) {
      if (data.length % rowFloats !== 0) throw new RangeError(`block of ${data.length} floats is not a whole number of rows of ${rowFloats}`);
      const rows = data.length / rowFloats;
      if (start + rows > shape[0]) throw new RangeError(`rows ${start}..${start + rows} exceed ${shape[0]}`);
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      await h.write(bytes, 0, bytes.length, header.length + start * rowBytes);
      await h.datasync();
      writer.rowsDone = Math.max(writer.rowsDone, start + rows);
      await saveProgress(writer.rowsDone);
    },
    async finish() {
      await h.close();
      await rename(partial, path);
      await rm(progressPath, { force: true });
    },
    async close() {
      await h.close();
    },
  };
  return writer;
}
