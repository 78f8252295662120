/**
 * Find a model's files on disk, downloading them once into the user cache when that is allowed.
 *
 * Where files are looked for, in order:
 * 1. `modelDir` (offline machines, `--model-dir`): `<modelDir>/<repo id>/<file>`, e.g.
 *    `models/Xenova/clip-vit-base-patch32/onnx/vision_model.onnx` (the layout of transformers.js'
 *    `env.localModelPath` and of `git clone https://huggingface.co/<repo id>`), or, when that folder
 *    does not exist, `<modelDir>/<file>` (modelDir is the model's own folder). Nothing is downloaded.
 * 2. The cache: `<cacheDir>/models/<repo id>/<revision>/<file>`.
 * 3. The hub (unless offline): `<remoteHost>/<repo id>/resolve/<revision>/<file>`, written to the
 *    cache through a temporary file and a rename, so an interrupted download never leaves a
 *    truncated file behind.
 *
 * cacheDir defaults to $SATC_CACHE, else $XDG_CACHE_HOME/satc, else ~/.cache/satc. Offline mode
 * is on when `offline` is set, when a modelDir is given, or when SATC_OFFLINE=1 or HF_HUB_OFFLINE=1.
 */
import { satcCacheDir } from "../features/store.js";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ModelRecord } from "../run/record.js";
import { SatcError } from "../errors.js";

export interface ResolveOptions {
  /** A local folder holding the model files (offline machines). */
  modelDir?: string;
  /** The download cache; see the module comment for the default. */
  cacheDir?: string;
  /** Never download. */
  offline?: boolean;
  /** Hub host; default https://huggingface.co (tests point it at a local server). */
  remoteHost?: string;
  /** Download progress, per file. */
  onProgress?: (event: DownloadProgress) => void;
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  /** Total bytes when the server says, else null. */
  total: number | null;
}

export interface ResolvedModel {
  id: string;
  revision: string;
  /** The folder holding the files (files are `<dir>/<relative path>`). */
  dir: string;
  files: string[];
  /** Where the files came from. */
  source: "model-dir" | "cache" | "download";
}

/** satc's one cache folder (models, edited models, features): see satcCacheDir. */
export function defaultCacheDir(): string {
  return resolve(satcCacheDir());
}

export function isOffline(options: ResolveOptions): boolean {
  const flag = (v: string | undefined) => v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
  return options.offline === true || options.modelDir !== undefined || flag(process.env.SATC_OFFLINE) || flag(process.env.HF_HUB_OFFLINE);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The folder inside modelDir that holds the model: `<modelDir>/<id>` when it exists, else modelDir. */
export async function modelDirFolder(modelDir: string, id: string): Promise<string> {
  const nested = join(resolve(modelDir), id);
  return (await isDir(nested)) ? nested : resolve(modelDir);
}

async function missingIn(dir: string, files: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const f of files) if (!(await isFile(join(dir, f)))) missing.push(f);
  return missing;
}

function hubUrl(host: string, id: string, revision: string, file: string): string {
  return `${host.replace(/\/+$/, "")}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function missingMessage(id: string, revision: string, dir: string, missing: string[], why: string): string {
  const lines = missing.map((f) => `  ${join(dir, f)}\n      from https://huggingface.co/${id}/resolve/${revision}/${f}`);
  return (
    `model ${id} (revision ${revision}) is not available ${why}; ${missing.length} file(s) missing. Put them here:\n` +
    `${lines.join("\n")}\n` +
    `(or run once with internet access so satc downloads them into its cache, or pass --model-dir <folder> ` +
    `holding <folder>/${id}/<files>)`
  );
}

async function download(url: string, dest: string, file: string, options: ResolveOptions): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (cause) {
    throw new SatcError(`could not download ${url}: ${(cause as Error).message}; pass --model-dir for offline machines`, { file: dest, cause });
  }
  if (!response.ok || response.body === null) {
    throw new SatcError(`could not download ${url}: HTTP ${response.status} ${response.statusText}`, { file: dest });
  }
  const lengthHeader = response.headers.get("content-length");
  const total = lengthHeader === null ? null : Number(lengthHeader);
  const tmp = `${dest}.part-${process.pid}`;
  let loaded = 0;
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (chunk: Buffer) => {
    loaded += chunk.length;
    options.onProgress?.({ file, loaded, total });
  });
  try {
    await pipeline(body, createWriteStream(tmp));
    if (total !== null && loaded !== total) throw new SatcError(`download of ${url} stopped at ${loaded} of ${total} bytes`, { file: dest });
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Make sure every file of `files` is on disk for model `id` at `revision`; return the folder.
 * Throws a SatcError listing each missing file and where to put it when they cannot be had.
 */
export async function resolveModelFiles(id: string, revision: string, files: string[], options: ResolveOptions = {}): Promise<ResolvedModel> {
  if (options.modelDir !== undefined) {
    const dir = await modelDirFolder(options.modelDir, id);
    const missing = await missingIn(dir, files);
    if (missing.length > 0) {
      const shown = join(resolve(options.modelDir), id);
      throw new SatcError(missingMessage(id, revision, shown, missing, `in --model-dir ${options.modelDir}`), { file: shown });
    }
    return { id, revision, dir, files, source: "model-dir" };
  }
  const dir = join(options.cacheDir ?? defaultCacheDir(), "models", id, revision);
  const missing = await missingIn(dir, files);
  if (missing.length === 0) return { id, revision, dir, files, source: "cache" };
  if (isOffline(options)) throw new SatcError(missingMessage(id, revision, dir, missing, "offline (not in the cache)"), { file: dir });
  const host = options.remoteHost ?? process.env.SATC_REMOTE_HOST ?? "https://huggingface.co";
  for (const f of missing) await download(hubUrl(host, id, revision, f), join(dir, f), f, options);
  return { id, revision, dir, files, source: "download" };
}

const hashMemo = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** SHA-256 of a file (hex), streamed; remembered per path, size and mtime for this process. */
export async function fileSha256(path: string): Promise<string> {
  const s = await stat(path);
  const memo = hashMemo.get(path);
  if (memo && memo.size === s.size && memo.mtimeMs === s.mtimeMs) return memo.sha256;
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  const sha256 = hash.digest("hex");
  hashMemo.set(path, { size: s.size, mtimeMs: s.mtimeMs, sha256 });
  return sha256;
}

/**
 * The run.json record of one model file. Files from a modelDir have no known hub revision: their
 * revision reads "model-dir" and the sha256 identifies them.
 */
export async function modelRecord(model: ResolvedModel, file: string): Promise<ModelRecord> {
  return { id: model.id, revision: model.source === "model-dir" ? "model-dir" : model.revision, file, sha256: await fileSha256(join(model.dir, file)) };
}
