/**
 * The feature store: encoded features kept on disk so the same input and encoder are not encoded twice.
 *
 * Layout: <root>/<key hash>/ holds one `.npy` per named array (e.g. "global" (nSamples, dim),
 * "patches" (nSamples, nPatches, patchDim)) and `manifest.json`. The key hash is the sha256 of the
 * canonical JSON of { input fingerprint, encoder name, encoder options } (see featureKeyHash).
 *
 * Writes are atomic: every file is written under a temporary name in the entry's folder, fsynced and
 * renamed, and the manifest is written last (and removed first when an entry is rewritten). An entry
 * without a manifest, or whose files do not match its manifest, is never returned.
 *
 * Room to grow: a streaming writer (rows appended batch by batch, resumable) can work in the same
 * layout — it writes each array with the header of its final shape (npyHeader), fills rows in place,
 * keeps its own progress file, and writes the manifest last; until then `get` does not see the entry.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { SatcError } from "../errors.js";
import { satcVersion } from "../version.js";
import { itemSize, npyHeader, parseNpy, parseNpyHeader, shapeSize, writeFileAtomic, writeNpy } from "./npy.js";


/** The satc cache folder: $SATC_CACHE, else $XDG_CACHE_HOME/satc, else ~/.cache/satc. */
export function satcCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SATC_CACHE) return env.SATC_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "satc");
  return join(homedir(), ".cache", "satc");
}

/** Default feature store folder: <satcCacheDir>/features (~/.cache/satc/features unless the environment says otherwise). */
export function defaultFeatureStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(satcCacheDir(env), "features");
}

/** What identifies a set of stored features. */
export interface FeatureKey {
  input: {
    /** The path or spec the user gave (recorded, not hashed: a moved folder keeps its features). */
    source: string;
    /** Dataset.fingerprint. */
    fingerprint: string;
    /** Number of items encoded. */
    n: number;
  };
  encoder: {
    name: string;
    /** Every option that changes the output (JSON values only). */
    options: unknown;
  };
}

/** An array to store: C-order values and their shape. */
export interface FeatureArray {
  data: Float32Array | Int32Array;
  shape: number[];
}

export interface FeatureManifest {
  format: "satc-features";
  formatVersion: 1;
  /** featureKeyHash(key); also the entry's folder name. */
  key: string;
  input: FeatureKey["input"];
  encoder: FeatureKey["encoder"];
  arrays: Record<string, { shape: number[]; dtype: "float32" | "int32"; file: string }>;
  /** ISO 8601. */
  createdAt: string;
  satcVersion: string;
}

export interface FeatureEntry {
  /** The entry's folder. */
  dir: string;
  manifest: FeatureManifest;
  /** The arrays asked for (all by default). */
  arrays: Record<string, FeatureArray>;
}

/**
 * JSON with object keys sorted at every level, no spaces: equal values give equal strings.
 * Throws on values JSON cannot represent faithfully (undefined, functions, NaN, Infinity, bigint).
 */
export function canonicalJson(value: unknown): string {
  const walk = (v: unknown, path: string): string => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: ${path} is ${v}, which JSON cannot hold`);
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return `[${v.map((x, i) => walk(x, `${path}[${i}]`)).join(",")}]`;
    const proto = typeof v === "object" ? Object.getPrototypeOf(v) : undefined;
    if (proto === Object.prototype || proto === null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${walk(o[k], `${path}.${k}`)}`).join(",")}}`;
    }
    throw new TypeError(`canonicalJson: ${path} is a ${typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v}, which is not plain JSON`);
  };
  return walk(value, "value");
}

/** The hex sha256 naming a key's entry: it covers the input fingerprint, encoder name and options. */
export function featureKeyHash(key: FeatureKey): string {
  const identity = { store: "satc-features/1", fingerprint: key.input.fingerprint, encoder: key.encoder.name, options: key.encoder.options ?? null };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex");
}

const MANIFEST = "manifest.json";
const ARRAY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class FeatureStore {
  /** Folder holding one sub-folder per entry. */
  readonly root: string;

  constructor(root: string = defaultFeatureStoreDir()) {
    this.root = root;
  }

  /** The folder of a key's entry (whether or not it exists). */
  entryDir(key: FeatureKey): string {
    return join(this.root, featureKeyHash(key));
  }

  /** The manifest of a complete entry, or null when there is none (or it is incomplete or damaged). */
  async manifest(key: FeatureKey): Promise<FeatureManifest | null> {
    const dir = this.entryDir(key);
    let manifest: FeatureManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as FeatureManifest;
    } catch {
      return null;
    }
    if (
      manifest?.format !== "satc-features" || manifest.formatVersion !== 1 || manifest.key !== featureKeyHash(key) ||
      manifest.input?.fingerprint !== key.input.fingerprint || manifest.encoder?.name !== key.encoder.name ||
      typeof manifest.arrays !== "object" || manifest.arrays === null
    ) {
      return null;
    }
    // Every array file must be there with exactly the size its manifest entry implies.
    for (const [name, a] of Object.entries(manifest.arrays)) {
      if (!ARRAY_NAME.test(name) || a.file !== `${name}.npy` || (a.dtype !== "float32" && a.dtype !== "int32") || !Array.isArray(a.shape)) return null;
      const size = await stat(join(dir, a.file)).then((s) => s.size, () => -1);
      if (size !== npyHeader(a.dtype, a.shape).length + shapeSize(a.shape) * itemSize(a.dtype)) return null;
    }
    return manifest;
  }

  /**
   * The stored arrays for `key` (those in `names`, default all), or null when the entry is absent,
   * incomplete or does not match its manifest.
   */
  async get(key: FeatureKey, names?: readonly string[]): Promise<FeatureEntry | null> {
    const manifest = await this.manifest(key);
    if (manifest === null) return null;
    const dir = this.entryDir(key);
    const wanted = names ?? Object.keys(manifest.arrays);
    const arrays: Record<string, FeatureArray> = {};
    for (const name of wanted) {
      const meta = manifest.arrays[name];
      if (meta === undefined) return null;
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, meta.file));
      } catch {
        return null; // removed since the manifest was checked
      }
      let array;
      try {
        array = parseNpy(bytes, join(dir, meta.file));
      } catch {
        return null;
      }
      if (array.dtype !== meta.dtype || array.shape.join(",") !== meta.shape.join(",")) return null;
      arrays[name] = { data: array.data as Float32Array | Int32Array, shape: array.shape };
    }
    return { dir, manifest, arrays };
  }

  /**
   * Store `arrays` under `key`, replacing any entry there. Array names become file names
   * (letters, digits, '_' and '-'). Returns the entry as written.
   */
  async put(key: FeatureKey, arrays: Record<string, FeatureArray>): Promise<FeatureEntry> {
    const names = Object.keys(arrays);
    if (names.length === 0) throw new RangeError("FeatureStore.put: no arrays to store");
    for (const name of names) {
      if (!ARRAY_NAME.test(name)) throw new RangeError(`FeatureStore.put: array name '${name}' must be letters, digits, '_' or '-'`);
      const a = arrays[name];
      if (!(a.data instanceof Float32Array || a.data instanceof Int32Array)) throw new TypeError(`FeatureStore.put: array '${name}' must be a Float32Array or Int32Array`);
      if (shapeSize(a.shape) !== a.data.length) {
        throw new RangeError(`FeatureStore.put: array '${name}' has shape (${a.shape.join(", ")}) but ${a.data.length} values`);
      }
    }
    const hash = featureKeyHash(key);
    const dir = join(this.root, hash);
    const manifest = this.newManifest(key, hash);
    try {
      await mkdir(dir, { recursive: true });
      await rm(join(dir, MANIFEST), { force: true }); // the old entry disappears before its files change
      for (const name of names) {
        const { data, shape } = arrays[name];
        const file = `${name}.npy`;
        await writeNpy(join(dir, file), data, shape);
        manifest.arrays[name] = { shape: [...shape], dtype: data instanceof Float32Array ? "float32" : "int32", file };
      }
      await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
      await syncDir(dir);
    } catch (err) {
      if (err instanceof SatcError) throw err;
      throw new SatcError(
        `cannot write features to ${dir}: ${(err as Error).message} (set SATC_CACHE to use another cache folder)`,
        { file: dir, cause: err },
      );
    }
    return { dir, manifest, arrays: Object.fromEntries(names.map((n) => [n, arrays[n]])) };
  }

  /**
   * A scratch folder for `key`, for writers that stream an entry's arrays batch by batch and may
   * be interrupted (encodeDataset): the same key always gets the same folder, so a rerun resumes.
   */
  workDir(key: FeatureKey): string {
    return join(this.root, `${featureKeyHash(key)}.work`);
  }

  /**
   * Make complete .npy files (written elsewhere, typically in workDir) the entry of `key`: they
   * are moved in (rename, same file system) and the manifest is written last. Returns the entry's
   * manifest and folder; arrays are not read back (they may be larger than memory).
   */
  async adopt(key: FeatureKey, files: Record<string, { path: string }>): Promise<{ dir: string; manifest: FeatureManifest }> {
    const hash = featureKeyHash(key);
    const dir = join(this.root, hash);
    const manifest = this.newManifest(key, hash);
    try {
      await mkdir(dir, { recursive: true });
      await rm(join(dir, MANIFEST), { force: true });
      for (const [name, { path }] of Object.entries(files)) {
        if (!ARRAY_NAME.test(name)) throw new RangeError(`FeatureStore.adopt: array name '${name}' must be letters, digits, '_' or '-'`);
        const header = parseNpyHeader(await readHead(path), path);
        if (header.dtype !== "float32" && header.dtype !== "int32") throw new SatcError(`${path}: expected float32 or int32 features, found ${header.dtype}`, { file: path });
        const file = `${name}.npy`;
        await rename(path, join(dir, file));
        manifest.arrays[name] = { shape: [...header.shape], dtype: header.dtype, file };
      }
      await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
      await syncDir(dir);
    } catch (err) {
      if (err instanceof SatcError || err instanceof RangeError) throw err;
      throw new SatcError(`cannot store features in ${dir}: ${(err as Error).message} (set SATC_CACHE to use another cache folder)`, { file: dir, cause: err });
    }
    return { dir, manifest };
  }

  private newManifest(key: FeatureKey, hash: string): FeatureManifest {
    return {
      format: "satc-features",
      formatVersion: 1,
      key: hash,
      input: { source: key.input.source, fingerprint: key.input.fingerprint, n: key.input.n },
      encoder: { name: key.encoder.name, options: JSON.parse(canonicalJson(key.encoder.options ?? null)) as unknown },
      arrays: {},
      createdAt: new Date().toISOString(),
      satcVersion,
    };
  }

  /** Remove a key's entry, if any. */
  async delete(key: FeatureKey): Promise<void> {
    const dir = this.entryDir(key);
    await rm(join(dir, MANIFEST), { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/** The first 4 KiB of a file: enough for any .npy header satc reads. */
async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buf = new Uint8Array(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** fsync a folder so the renames in it survive a crash (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here (e.g. Windows); the renames are still atomic
  }
}
