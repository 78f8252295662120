/**
 * `report.html` of a run folder: one self-contained page (no server, no network) with a section
 * per cluster (size, names, thumbnails of its most and least confident members), a UMAP map of
 * the items coloured by cluster with the image on hover, metrics and confusion matrix when the
 * input has labels, and the run's settings.
 *
 * Built from run.json + assignments.csv + the features .npy the record names + the input
 * re-opened for thumbnails. Each missing piece leaves its part out with a note, never the report.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, readNpy } from "../features/npy.js";
import type { Dataset } from "../input/dataset.js";
import type { RunRecord } from "../run/record.js";
import type { Matrix } from "../util/matrix.js";
import { layoutMap, MIN_MAP_POINTS, type MapOptions } from "./map.js";
import { renderReport, type ClusterView, type MapView, type ThumbView } from "./render.js";
import { matchIds, openRunInput, readRunFolder, resolveInRun, type Assignments, type InputOptions } from "./run-folder.js";
import { makeAtlas, makeThumbnail, mapLimit, mimeType, tilePixels, tileSide, type ThumbnailFormat } from "./thumbnails.js";

export { readRunFolder, parseAssignments, type Assignments, type RunFolder, type InputOptions } from "./run-folder.js";
export { renderReport, type ReportData, type ClusterView, type MapView, type ThumbView } from "./render.js";
export { layoutMap, type MapLayout, type MapOptions } from "./map.js";
export { esc } from "./html.js";

export type ReportProgressEvent =
  | { stage: "map"; done: number; total: number }
  | { stage: "thumbnails"; done: number; total: number }
  | { stage: "write"; done: number; total: number };

export interface ReportOptions extends InputOptions {
  /** Longest edge of a thumbnail in pixels (smaller images keep their size). Default 64. */
  thumbSize: number;
  /** Thumbnails shown per cluster for the most confident members, and again for the least. Default 12. */
  perCluster: number;
  /** Thumbnail encoding. Default "webp". */
  format: ThumbnailFormat;
  /**
   * Where thumbnails go: inside report.html as data: URIs ("embed"), as files in `thumbs/` beside
   * it ("folder"), or "auto": embedded while their base64 size stays within embedLimitBytes.
   */
  thumbs: "auto" | "embed" | "folder";
  /** Default 8 MiB. */
  embedLimitBytes: number;
  /** Map settings, or false to leave the map out. The seed defaults to the run's first seed. */
  map: Partial<MapOptions> | false;
  onProgress?: (event: ReportProgressEvent) => void;
}

export const defaultReportOptions: Omit<ReportOptions, "onProgress" | "dataset" | "dataDir"> = {
  thumbSize: 64,
  perCluster: 12,
  format: "webp",
  thumbs: "auto",
  embedLimitBytes: 8 * 1024 * 1024,
  map: {},
};

export interface ReportResult {
  /** Absolute path of report.html. */
  path: string;
  /** Size of report.html in bytes. */
  bytes: number;
  /** Where the thumbnails went ("none": no images available). */
  thumbnails: "embedded" | "folder" | "none";
  /** Bytes written to thumbs/ (0 when embedded). */
  thumbBytes: number;
  /** Points on the map (0 without a map). */
  mapPoints: number;
  notes: string[];
}

/** Build (or rebuild) `report.html` in `runDir`. */
export async function writeReport(runDir: string, options: Partial<ReportOptions> = {}): Promise<ReportResult> {
  const o = { ...defaultReportOptions, ...options };
  const { dir, record, assignments } = await readRunFolder(runDir);
  const notes: string[] = [];
  const n = assignments.ids.length;
  if (n !== record.input.n) notes.push(`assignments.csv has ${n} rows but run.json says the input has ${record.input.n} items.`);

  let dataset: Dataset | null = null;
  try {
    dataset = await openRunInput(record, o);
  } catch (err) {
    notes.push(`The input '${record.input.source}' could not be opened again (${(err as Error).message}); the report has no images.`);
  }
  const datasetIndex = dataset ? matchIds(assignments.ids, dataset.ids) : null;
  if (dataset && datasetIndex) {
    const missing = datasetIndex.reduce((a, v) => a + (v < 0 ? 1 : 0), 0);
    if (missing > 0) notes.push(`${missing} of ${n} items of the run are no longer in the input; they have no images.`);
  }
  const images = dataset?.kind === "images" ? dataset : null;
  if (dataset && !images) notes.push("The input is a feature matrix: the report has no images.");
  const labelName = itemLabels(dataset, datasetIndex, record);

  // Members of each cluster by decreasing confidence.
  const k = record.clusters.k;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) members[assignments.cluster[i]].push(i);
  for (const list of members) list.sort((a, b) => assignments.confidence[b] - assignments.confidence[a] || a - b);
  const shown = members.map((list) => pickShown(list, o.perCluster));

  // The map.
  let layout: { index: Int32Array; xy: Float32Array } | null = null;
  if (o.map !== false) {
    const features = await mapFeatures(dir, record, dataset, datasetIndex, n, notes);
    if (features) {
      if (features.rows < MIN_MAP_POINTS) notes.push(`Too few items (${features.rows}) for a map.`);
      else {
        o.onProgress?.({ stage: "map", done: 0, total: 1 });
        const seed = o.map.seed ?? record.runs?.[0]?.seed ?? 0;
        layout = layoutMap(features, { ...o.map, seed });
        o.onProgress?.({ stage: "map", done: 1, total: 1 });
      }
    }
  }

  // Images: each needed item is decoded once, for its thumbnail and/or its map tile.
  const thumbOf = new Map<number, Buffer | null>();
  let atlasBytes: Buffer | null = null;
  let tile = 0;
  let columns = 0;
  let failed = 0;
  if (images && datasetIndex) {
    const wanted = new Set<number>();
    for (const s of shown) for (const i of [...s.top, ...s.bottom]) wanted.add(i);
    const mapPos = new Map<number, number>();
    if (layout) layout.index.forEach((item, p) => mapPos.set(item, p));
    const todo = [...new Set([...wanted, ...mapPos.keys()])].sort((a, b) => a - b);
    const tiles: (Uint8Array | null)[] = layout ? new Array(layout.index.length).fill(null) : [];
    let done = 0;
    await mapLimit(todo.length, 8, async (t) => {
      const item = todo[t];
      const at = datasetIndex[item];
      try {
        if (at < 0) throw new Error("not in the input");
        const raw = await images.loadImage(at);
        if (wanted.has(item)) thumbOf.set(item, await makeThumbnail(raw, o.thumbSize, o.format));
        const p = mapPos.get(item);
        if (p !== undefined) {
          if (tile === 0) tile = tileSide(raw, o.thumbSize);
          tiles[p] = await tilePixels(raw, tile);
        }
      } catch {
        failed++;
        if (wanted.has(item)) thumbOf.set(item, null);
      }
      done++;
      if (done % 64 === 0 || done === todo.length) o.onProgress?.({ stage: "thumbnails", done, total: todo.length });
    });
    if (failed > 0) notes.push(`${failed} images could not be read again; they are shown without a picture.`);
    if (layout && tile > 0) {
      const atlas = await makeAtlas(tiles, tile, o.format);
      atlasBytes = atlas.bytes;
      columns = atlas.columns;
    }
  }

  // Embedded or in thumbs/ beside the report.
  let thumbBytes = 0;
  for (const b of thumbOf.values()) if (b) thumbBytes += b.length;
  if (atlasBytes) thumbBytes += atlasBytes.length;
  const haveImages = thumbOf.size > 0 || atlasBytes !== null;
  const folder = haveImages && (o.thumbs === "folder" || (o.thumbs === "auto" && Math.ceil(thumbBytes / 3) * 4 > o.embedLimitBytes));
  const thumbsDir = join(dir, "thumbs");
  await rm(thumbsDir, { recursive: true, force: true });
  const ext = o.format;
  const srcOf = new Map<number, string>();
  let atlasSrc: string | null = null;
  if (folder) {
    await mkdir(thumbsDir, { recursive: true });
    for (const [item, bytes] of thumbOf) {
      if (!bytes) continue;
      const name = `${item}.${ext}`;
      await writeFile(join(thumbsDir, name), bytes);
      srcOf.set(item, `thumbs/${name}`);
    }
    if (atlasBytes) {
      await writeFile(join(thumbsDir, `map.${ext}`), atlasBytes);
      atlasSrc = `thumbs/map.${ext}`;
    }
  } else {
    const prefix = `data:${mimeType(o.format)};base64,`;
    for (const [item, bytes] of thumbOf) if (bytes) srcOf.set(item, prefix + bytes.toString("base64"));
    if (atlasBytes) atlasSrc = prefix + atlasBytes.toString("base64");
  }

  const thumbView = (item: number): ThumbView => ({
    id: assignments.ids[item],
    confidence: assignments.confidence[item],
    label: labelName ? labelName(item) : null,
    src: srcOf.get(item) ?? null,
  });
  const clusters: ClusterView[] = members.map((list, c) => ({
    index: c,
    size: list.length,
    names: record.clusters.names?.[c] ?? [],
    meanConfidence: list.length > 0 ? list.reduce((a, i) => a + assignments.confidence[i], 0) / list.length : NaN,
    majority: majorityOf(c, list, record, labelName),
    mostConfident: shown[c].top.map(thumbView),
    leastConfident: shown[c].bottom.map(thumbView),
  }));

  let map: MapView | null = null;
  if (layout) {
    const items = Array.from(layout.index);
    map = {
      x: items.map((_, p) => layout!.xy[2 * p]),
      y: items.map((_, p) => layout!.xy[2 * p + 1]),
      cluster: items.map((i) => assignments.cluster[i]),
      id: items.map((i) => assignments.ids[i]),
      confidence: items.map((i) => assignments.confidence[i]),
      label: labelName ? items.map((i) => labelName(i)) : null,
      atlas: atlasSrc ? { src: atlasSrc, tile, columns } : null,
      total: n,
    };
  }

  const html = renderReport({ record, clusters, map, notes, generatedAt: new Date().toISOString() });
  const path = join(dir, "report.html");
  o.onProgress?.({ stage: "write", done: 0, total: 1 });
  await writeFileAtomic(path, html);
  o.onProgress?.({ stage: "write", done: 1, total: 1 });
  return {
    path,
    bytes: Buffer.byteLength(html),
    thumbnails: !haveImages ? "none" : folder ? "folder" : "embedded",
    thumbBytes: folder ? thumbBytes : 0,
    mapPoints: layout ? layout.index.length : 0,
    notes,
  };
}

/** The `per` most confident members, then up to `per` least confident ones not already shown. */
function pickShown(sorted: number[], per: number): { top: number[]; bottom: number[] } {
  const top = sorted.slice(0, per);
  const restStart = Math.max(per, sorted.length - per);
  const bottom = sorted.slice(restStart).reverse();
  return { top, bottom };
}

/** Class name of item i of the run, when the input has labels. */
function itemLabels(dataset: Dataset | null, index: Int32Array | null, record: RunRecord): ((i: number) => string | null) | null {
  if (!dataset?.labels || !index) return null;
  const labels = dataset.labels;
  const names = dataset.classNames ?? record.input.classNames;
  return (i) => {
    const at = index[i];
    if (at < 0) return null;
    const y = labels[at];
    return names?.[y] ?? `class ${y}`;
  };
}

function majorityOf(c: number, list: number[], record: RunRecord, labelName: ((i: number) => string | null) | null): ClusterView["majority"] {
  const row = record.confusion?.[c];
  if (row && row.length > 0) {
    const total = row.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    return { name: record.input.classNames?.[best] ?? `class ${best}`, share: row[best] / total };
  }
  if (!labelName || list.length === 0) return null;
  const counts = new Map<string, number>();
  for (const i of list) {
    const name = labelName(i);
    if (name !== null) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  let bestName: string | null = null;
  let bestCount = 0;
  for (const [name, v] of counts) if (v > bestCount) [bestName, bestCount] = [name, v];
  return bestName === null ? null : { name: bestName, share: bestCount / list.length };
}

/** The (n, d) features of the run's items in assignment order, or null with a note. */
async function mapFeatures(
  dir: string,
  record: RunRecord,
  dataset: Dataset | null,
  index: Int32Array | null,
  n: number,
  notes: string[],
): Promise<Matrix | null> {
  if (record.features) {
    const path = resolveInRun(dir, record.features.global);
    try {
      const npy = await readNpy(path);
      if (npy.shape.length !== 2 || npy.shape[0] !== n || !(npy.data instanceof Float32Array || npy.data instanceof Float64Array)) {
        notes.push(`The map is left out: ${path} holds (${npy.shape.join(", ")}) ${npy.dtype}, not (${n}, d) floats for the ${n} items.`);
        return null;
      }
      const data = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data);
      return { data, rows: npy.shape[0], cols: npy.shape[1] };
    } catch (err) {
      notes.push(`The map is left out: the features could not be read (${(err as Error).message}).`);
      return null;
    }
  }
  if (dataset?.kind === "features" && index && index.every((v) => v >= 0)) {
    const f = dataset.features;
    const data = new Float32Array(n * f.cols);
    for (let i = 0; i < n; i++) data.set(f.data.subarray(index[i] * f.cols, (index[i] + 1) * f.cols), i * f.cols);
    return { data, rows: n, cols: f.cols };
  }
  notes.push("The map is left out: the run recorded no features file (run.json has features: null).");
  return null;
}

