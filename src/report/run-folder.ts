/**
 * Reading a run folder back: `run.json` (a RunRecord) and `assignments.csv` (header
 * `id,cluster,confidence`, one row per clustered item in input order). The report and the export
 * are built from these two files plus the input the record names.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { SatcError } from "../errors.js";
import type { Dataset } from "../input/dataset.js";
import { openDataset } from "../input/index.js";
import type { RunRecord } from "../run/record.js";

/** The per-item result of a run, in input order. */
import type { Assignments } from "../run/folder.js";

export type { Assignments };

export interface RunFolder {
  dir: string;
  record: RunRecord;
  assignments: Assignments;
}

/** Read `run.json` and `assignments.csv` of a run folder. Errors name the file and line. */
export async function readRunFolder(runDir: string): Promise<RunFolder> {
  const dir = resolve(runDir);
  const recordPath = join(dir, "run.json");
  const csvPath = join(dir, "assignments.csv");
  const recordText = await readText(recordPath, `${runDir} is not a run folder (no run.json)`);
  let record: RunRecord;
  try {
    record = JSON.parse(recordText) as RunRecord;
  } catch (err) {
    throw new SatcError(`${recordPath}: not valid JSON (${(err as Error).message})`, { file: recordPath, cause: err });
  }
  if (typeof record !== "object" || record === null || typeof record.clusters?.k !== "number" || typeof record.input?.source !== "string") {
    throw new SatcError(`${recordPath}: not a satc run record (clusters.k or input.source missing)`, { file: recordPath });
  }
  const csvText = await readText(csvPath, `${runDir} has no assignments.csv`);
  const assignments = parseAssignments(csvText, csvPath, record.clusters.k);
  return { dir, record, assignments };
}

async function readText(path: string, missing: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? missing : `cannot read ${path}: ${(err as Error).message}`;
    throw new SatcError(message, { file: path, cause: err });
  }
}

/**
 * Parse assignments.csv (RFC 4180: fields may be double-quoted, quotes doubled inside).
 * Every cluster must be an integer in [0, k) and every confidence a number.
 */
export function parseAssignments(text: string, file: string, k: number): Assignments {
  const rows = parseCsv(text);
  while (rows.length > 0 && rows[rows.length - 1].length === 1 && rows[rows.length - 1][0] === "") rows.pop();
  const header = rows.shift();
  if (header === undefined || header.join(",") !== "id,cluster,confidence") {
    throw new SatcError(`${file}: expected the header 'id,cluster,confidence' but found '${header?.join(",") ?? ""}'`, { file });
  }
  const n = rows.length;
  const ids = new Array<string>(n);
  const cluster = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const line = i + 2;
    if (r.length !== 3) throw new SatcError(`${file}:${line}: expected 3 fields (id,cluster,confidence) but found ${r.length}`, { file });
    const c = Number(r[1]);
    if (!Number.isInteger(c) || c < 0 || c >= k || r[1].trim() === "") {
      throw new SatcError(`${file}:${line}: expected a cluster in 0..${k - 1} but found '${r[1]}'`, { file });
    }
    const p = Number(r[2]);
    if (r[2].trim() === "" || Number.isNaN(p)) {
      throw new SatcError(`${file}:${line}: expected a number for confidence but found '${r[2]}'`, { file });
    }
    ids[i] = r[0];
    cluster[i] = c;
    confidence[i] = p;
  }
  return { ids, cluster, confidence };
}

/** Minimal RFC 4180 reader: rows of fields; accepts \n and \r\n line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  const n = text.length;
  let quoted = false;
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      i++;
    } else if (ch === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Resolve the features path of a record: absolute as is, relative to the run folder otherwise. */
export function resolveInRun(runDir: string, path: string): string {
  return isAbsolute(path) ? path : join(runDir, path);
}

/** Options shared by the report and the export for re-opening the run's input. */
export interface InputOptions {
  /**
   * The run's input, already opened. When absent, `record.input.source` is re-opened with the
   * input readers (`openDataset`). Pass `null` to use no input at all (no thumbnails, no files).
   */
  dataset?: Dataset | null;
  /** Where the input readers look for named data sets (passed to openDataset). */
  dataDir?: string;
}

/**
 * The run's input: the one given, or `record.input.source` re-opened with openDataset.
 */
export async function openRunInput(record: RunRecord, options: InputOptions): Promise<Dataset | null> {
  if (options.dataset !== undefined) return options.dataset;
  return openDataset(record.input.source, { dataDir: options.dataDir });
}

/**
 * Map each assignment row to its index in the dataset, by id (-1 when the dataset lacks it).
 * Fast path when the ids are identical and in the same order.
 */
export function matchIds(assignmentIds: string[], datasetIds: string[]): Int32Array {
  const n = assignmentIds.length;
  const out = new Int32Array(n);
  let same = datasetIds.length === n;
  for (let i = 0; same && i < n; i++) same = assignmentIds[i] === datasetIds[i];
  if (same) {
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }
  const index = new Map<string, number>();
  datasetIds.forEach((id, i) => index.set(id, i));
  for (let i = 0; i < n; i++) out[i] = index.get(assignmentIds[i]) ?? -1;
  return out;
}
