/**
 * Writing a run folder: run.json (a RunRecord) and assignments.csv (`id,cluster,confidence`, one
 * row per item in input order). Files are written to a temporary name and renamed, so a reader
 * never sees half a file. The report reads them back (src/report/run-folder.ts).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../features/npy.js";
import type { RunRecord } from "./record.js";

/** The per-item result of a run, in input order. */
export interface Assignments {
  /** (n) item ids as in the input. */
  ids: string[];
  /** (n) cluster index per item, 0 <= cluster < k. */
  cluster: Int32Array;
  /** (n) confidence of the assignment in [0,1]: the head's probability of its cluster, or k-means' margin (marginConfidence). */
  confidence: Float32Array;
}

/** RFC 4180 quoting: only when the field holds a comma, quote or line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatAssignmentsCsv(a: Assignments): string {
  const lines = ["id,cluster,confidence"];
  for (let i = 0; i < a.ids.length; i++) lines.push(`${csvField(a.ids[i])},${a.cluster[i]},${a.confidence[i].toFixed(6)}`);
  return lines.join("\n") + "\n";
}

export async function writeRunFolder(dir: string, record: RunRecord, assignments: Assignments): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, "assignments.csv"), formatAssignmentsCsv(assignments));
  await writeFileAtomic(join(dir, "run.json"), JSON.stringify(record, null, 2) + "\n");
}
