/**
 * `exportClusters`: the result of a run as folders a person can browse in a file manager, one per
 * cluster, named by its number and names (`03-sneaker-boot`), holding its images: symbolic links
 * to (or copies of) the files of a folder input, or PNGs written with sharp for inputs without
 * files (IDX, Fashion-MNIST).
 */
import { copyFile, mkdir, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import sharp from "sharp";
import { SatcError } from "../errors.js";
import { matchIds, openRunInput, readRunFolder, type InputOptions } from "../report/run-folder.js";
import { mapLimit } from "../report/thumbnails.js";

export interface ExportOptions extends InputOptions {
  /** "link": symbolic links to the input's files; "copy": copies. Inputs without files get PNGs either way. */
  mode: "link" | "copy";
  onProgress?: (event: { stage: "export"; done: number; total: number }) => void;
}

export interface ExportResult {
  /** Absolute path of the destination folder. */
  dest: string;
  /** How the images were placed: linked, copied, or written as PNG (inputs without files). */
  written: "link" | "copy" | "png";
  clusters: { index: number; folder: string; count: number }[];
  /** Images placed in all. */
  files: number;
  /** Items of the run that the input no longer has (not exported). */
  missing: number;
}

/** Export the clusters of the run in `runDir` into `dest` (which must not exist or be empty). */
export async function exportClusters(runDir: string, dest: string, options: ExportOptions): Promise<ExportResult> {
  if (options.mode !== "link" && options.mode !== "copy") {
    throw new SatcError(`expected 'link' or 'copy' for the export mode but received '${String(options.mode)}'`);
  }
  const target = resolve(dest);
  await checkDestination(target);
  const { record, assignments } = await readRunFolder(runDir);
  const dataset = await openRunInput(record, options);
  if (dataset === null || dataset.kind !== "images") {
    throw new SatcError(`the input of ${runDir} (${record.input.source}) is a feature matrix: it has no images to export`);
  }
  const index = matchIds(assignments.ids, dataset.ids);
  const k = record.clusters.k;
  const folders = Array.from({ length: k }, (_, c) => clusterFolderName(c, k, record.clusters.names?.[c] ?? []));
  const counts = new Array<number>(k).fill(0);
  await mkdir(target, { recursive: true });
  for (const f of folders) await mkdir(join(target, f));

  const pathOf = dataset.path?.bind(dataset);
  const written: ExportResult["written"] = pathOf ? options.mode : "png";
  const used = folders.map(() => new Set<string>());
  const n = assignments.ids.length;
  let missing = 0;
  let done = 0;
  // File names are chosen up front (in input order) so they do not depend on timing.
  const plan: { item: number; at: number; file: string }[] = [];
  for (let i = 0; i < n; i++) {
    const at = index[i];
    if (at < 0) {
      missing++;
      continue;
    }
    const c = assignments.cluster[i];
    const ext = pathOf ? extname(pathOf(at)) : ".png";
    const file = uniqueName(fileNameFor(assignments.ids[i], ext), used[c]);
    plan.push({ item: i, at, file: join(target, folders[c], file) });
    counts[c]++;
  }
  await mapLimit(plan.length, 16, async (p) => {
    const { at, file } = plan[p];
    if (pathOf) {
      const source = resolve(pathOf(at));
      try {
        if (options.mode === "link") await symlink(source, file);
        else await copyFile(source, file);
      } catch (err) {
        throw new SatcError(`cannot ${options.mode} ${source} to ${file}: ${(err as Error).message}`, { file: source, cause: err });
      }
    } else {
      const raw = await dataset.loadImage(at);
      let image = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
      if (raw.channels === 1) image = image.toColourspace("b-w"); // keep grayscale PNGs one channel
      const png = await image.png().toBuffer();
      await writeFile(file, png);
    }
    done++;
    if (done % 256 === 0 || done === plan.length) options.onProgress?.({ stage: "export", done, total: plan.length });
  });
  return {
    dest: target,
    written,
    clusters: folders.map((folder, c) => ({ index: c, folder, count: counts[c] })),
    files: plan.length,
    missing,
  };
}

async function checkDestination(target: string): Promise<void> {
  const s = await stat(target).catch(() => null);
  if (s === null) return;
  if (!s.isDirectory()) throw new SatcError(`export destination ${target} is a file; give a new or empty folder`, { file: target });
  const entries = await readdir(target);
  if (entries.length > 0) {
    throw new SatcError(
      `export destination ${target} is not empty (${entries.length} entries, e.g. '${entries[0]}'); give a new or empty folder so nothing is overwritten`,
      { file: target },
    );
  }
}

/** Lower-case ASCII words joined by "-": accents dropped, anything else becomes a separator. */
export function slug(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * Folder of cluster `index` of `k`: the number, zero-padded to the width of k-1 (at least 2
 * digits), then up to three names as slugs, at most 60 characters: (3, 10, ["sneaker", "boot"]) ->
 * "03-sneaker-boot".
 */
export function clusterFolderName(index: number, k: number, names: readonly string[]): string {
  const width = Math.max(2, String(Math.max(0, k - 1)).length);
  const number = String(index).padStart(width, "0");
  const words = names.slice(0, 3).map(slug).filter((w) => w !== "");
  let name = number;
  for (const w of words) {
    if (name.length + 1 + w.length > 60) break;
    name += `-${w}`;
  }
  return name;
}

/** A file name from an item id: path separators and characters file systems refuse become "_". */
export function fileNameFor(id: string, ext: string): string {
  let name = id.replace(/[\\/]+/g, "_").replace(/[<>:"|?*\u0000-\u001f]/g, "_").replace(/^\.+/, "_");
  if (name === "") name = "item";
  if (ext !== "" && extname(name).toLowerCase() !== ext.toLowerCase()) name += ext;
  if (name.length > 200) name = name.slice(0, 200 - ext.length) + ext;
  return name;
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 2; used.has(candidate.toLowerCase()); i++) candidate = `${stem}-${i}${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}
