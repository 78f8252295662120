/**
 * A folder of images, searched recursively. Ids are relative paths with '/' separators, sorted by code
 * point (the same order on every machine). When every image sits in a sub-folder and there are at
 * least two first-level sub-folders, their names are the class labels (classNames sorted).
 *
 * Formats: whatever this installation of sharp decodes (with sharp 0.35's bundled libvips: JPEG, PNG,
 * WebP, GIF (first frame), TIFF, AVIF). Files with other image extensions (BMP in particular: the
 * bundled libvips has no BMP loader) are listed in `skipped` with the reason, never a crash.
 * A scan reads each file's header (or decodes it fully with validate: "decode") and moves unreadable
 * files into `skipped`, so one bad file in a large folder does not stop a run.
 */
import { createHash } from "node:crypto";
import { readdir, realpath, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import sharp from "sharp";
import { SatcError } from "../errors.js";
import type { ImageDataset, RawImage, SkippedItem } from "./dataset.js";
import { compareCodePoints } from "./labels.js";

/** Extensions treated as images (lower case, with the dot). Non-image files are ignored. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif", ".heic", ".heif",
  ".bmp", ".dib", ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".jxl",
];

/** The image extensions this installation of sharp can read from files (from sharp.format). */
export function readableImageExtensions(): Set<string> {
  const out = new Set<string>();
  for (const format of Object.values(sharp.format) as { input?: { file?: boolean; fileSuffix?: string[] } }[]) {
    if (format.input?.file === true) for (const s of format.input.fileSuffix ?? []) out.add(s.toLowerCase());
  }
  // fileSuffix lists only some aliases; the loaders sniff content, so map the usual ones.
  if (out.has(".jpg")) for (const s of [".jpeg", ".jpe", ".jfif"]) out.add(s);
  if (out.has(".tif")) out.add(".tiff");
  return new Set([...out].filter((e) => IMAGE_EXTENSIONS.includes(e)));
}

export type FolderValidation = "metadata" | "decode" | "none";

export interface ScanProgress {
  stage: "scan";
  /** Files checked so far / image files found. */
  done: number;
  total: number;
}

export interface ImageFolderOptions {
  /**
   * How each image is checked before the run: "metadata" reads its header (fast, default),
   * "decode" decodes it fully (catches damage past the header), "none" trusts the file names.
   */
  validate?: FolderValidation;
  /** Parallel file checks (default 8). */
  concurrency?: number;
  onProgress?: (event: ScanProgress) => void;
}

/** What a scan found: readable images (sorted ids) and those left out, with reasons. */
export interface ImageFolderScan {
  root: string;
  /** Relative paths, '/' separators, sorted. */
  ids: string[];
  /** Channels reported by each image's header (1 gray, 2 gray+alpha, 3, 4), or 0 when not checked. */
  channels: Uint8Array;
  skipped: SkippedItem[];
  /** Files with non-image extensions that were ignored. */
  ignoredFiles: number;
  /** True when every image (kept or skipped) lies in a sub-folder. */
  allInSubfolders: boolean;
  /** sha256 over (relative path, size, mtime) of every image file found. */
  fingerprint: string;
}

interface FoundFile {
  id: string;
  size: number;
  mtimeMs: number;
}

async function walk(root: string): Promise<{ files: FoundFile[]; ignored: number }> {
  const files: FoundFile[] = [];
  let ignored = 0;
  const seen = new Set<string>();
  async function visit(dir: string, rel: string): Promise<void> {
    const real = await realpath(dir);
    if (seen.has(real)) return; // a symlink loop
    seen.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      const id = rel === "" ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const s = await stat(full).catch(() => null);
        if (s === null) continue; // dangling link
        isDir = s.isDirectory();
        isFile = s.isFile();
      }
      if (isDir) {
        await visit(full, id);
      } else if (isFile) {
        const ext = extensionOf(entry.name);
        if (!IMAGE_EXTENSIONS.includes(ext)) {
          ignored++;
          continue;
        }
        const s = await stat(full);
        files.push({ id, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
  }
  await visit(root, "");
  files.sort((a, b) => compareCodePoints(a.id, b.id));
  return { files, ignored };
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot).toLowerCase();
}

function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // libvips repeats its warnings; keep the first line.
  return message.split("\n")[0].trim();
}

/** Find the images under `dir` and check that each can be read. Throws SatcError when none can. */
export async function scanImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolderScan> {
  const root = resolve(dir);
  const s = await stat(root).catch((err: unknown) => {
    throw new SatcError(`cannot read image folder ${dir}: ${shortReason(err)}`, { file: dir, cause: err });
  });
  if (!s.isDirectory()) throw new SatcError(`${dir} is not a folder`, { file: dir });
  const { files, ignored } = await walk(root);
  const extensions = IMAGE_EXTENSIONS.join(", ");
  if (files.length === 0) {
    throw new SatcError(
      `no images found in ${dir} (searched sub-folders too, for ${extensions}` +
        `${ignored > 0 ? `; ${ignored} other file${ignored === 1 ? "" : "s"} ignored` : ""})`,
      { file: dir },
    );
  }
  const readable = readableImageExtensions();
  const validate = options.validate ?? "metadata";
  const channels = new Uint8Array(files.length);
  const reasons: (string | null)[] = new Array(files.length).fill(null);
  let done = 0;
  const check = async (i: number): Promise<void> => {
    const f = files[i];
    const ext = extensionOf(f.id);
    if (!readable.has(ext)) {
      reasons[i] = `${ext} files cannot be decoded by sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}) as installed; convert them to PNG or JPEG`;
    } else if (f.size === 0) {
      reasons[i] = "empty file";
    } else if (validate !== "none") {
      try {
        const image = sharp(join(root, f.id));
        const meta = await image.metadata();
        if (!meta.width || !meta.height) throw new Error("no width/height in the image header");
        channels[i] = meta.channels ?? 0;
        if (validate === "decode") await image.raw().toBuffer();
      } catch (err) {
        reasons[i] = `unreadable image: ${shortReason(err)}`;
      }
    }
    done++;
    if (options.onProgress && (done % 256 === 0 || done === files.length)) {
      options.onProgress({ stage: "scan", done, total: files.length });
    }
  };
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, files.length)) }, async () => {
    while (next < files.length) await check(next++);
  });
  await Promise.all(workers);

  const ids: string[] = [];
  const keptChannels: number[] = [];
  const skipped: SkippedItem[] = [];
  for (let i = 0; i < files.length; i++) {
    const reason = reasons[i];
    if (reason === null) {
      ids.push(files[i].id);
      keptChannels.push(channels[i]);
    } else {
      skipped.push({ id: files[i].id, reason });
    }
  }
  if (ids.length === 0) {
    const first = skipped[0];
    throw new SatcError(
      `none of the ${files.length} image file${files.length === 1 ? "" : "s"} in ${dir} could be read ` +
        `(first: ${first.id}: ${first.reason})`,
      { file: dir },
    );
  }
  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.id}\t${f.size}\t${Math.round(f.mtimeMs)}\n`);
  return {
    root,
    ids,
    channels: Uint8Array.from(keptChannels),
    skipped,
    ignoredFiles: ignored,
    allInSubfolders: files.every((f) => f.id.includes("/")),
    fingerprint: `sha256:${hash.digest("hex")}`,
  };
}

/**
 * Decode one image file to 8-bit pixels: EXIF orientation applied, grayscale kept as 1 channel,
 * color as 3, alpha kept (4 channels; gray+alpha becomes RGBA). Nothing is flattened or resized.
 */
export async function decodeImageFile(path: string, headerChannels = 0): Promise<RawImage> {
  try {
    let gray = headerChannels === 1;
    if (headerChannels === 0) gray = (await sharp(path).metadata()).channels === 1;
    let pipeline = sharp(path).rotate();
    if (gray) pipeline = pipeline.toColourspace("b-w");
    const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    let pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let channels = info.channels as number;
    if (channels === 2) {
      // gray + alpha -> RGBA
      const out = new Uint8Array(info.width * info.height * 4);
      for (let p = 0, q = 0; p < pixels.length; p += 2, q += 4) {
        out[q] = out[q + 1] = out[q + 2] = pixels[p];
        out[q + 3] = pixels[p + 1];
      }
      pixels = out;
      channels = 4;
    }
    if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`unexpected channel count ${channels}`);
    return { data: pixels, width: info.width, height: info.height, channels };
  } catch (err) {
    throw new SatcError(`cannot decode image ${path}: ${shortReason(err)}`, { file: path, cause: err });
  }
}

export interface ImageFolderDataset extends ImageDataset {
  path(i: number): string;
  /** Files with non-image extensions that were ignored. */
  ignoredFiles: number;
}

/** Open a folder of images (see the module comment for ids, labels and skipped files). */
export async function openImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const scan = await scanImageFolder(dir, options);
  const firstLevel = scan.ids.map((id) => id.slice(0, id.indexOf("/")));
  let labels: Int32Array | null = null;
  let classNames: string[] | null = null;
  if (scan.allInSubfolders) {
    const names = [...new Set(firstLevel)].sort(compareCodePoints);
    if (names.length >= 2) {
      const index = new Map(names.map((n, i) => [n, i]));
      labels = Int32Array.from(firstLevel, (n) => index.get(n)!);
      classNames = names;
    }
  }
  const pathOf = (i: number): string => {
    if (!Number.isInteger(i) || i < 0 || i >= scan.ids.length) {
      throw new RangeError(`image index ${i} is out of range 0..${scan.ids.length - 1}`);
    }
    return join(scan.root, ...scan.ids[i].split("/"));
  };
  return {
    kind: "images",
    name: basename(scan.root),
    source: dir,
    fingerprint: scan.fingerprint,
    ids: scan.ids,
    labels,
    classNames,
    skipped: scan.skipped,
    ignoredFiles: scan.ignoredFiles,
    path: pathOf,
    loadImage: (i: number) => decodeImageFile(pathOf(i), scan.channels[i]),
  };
}
