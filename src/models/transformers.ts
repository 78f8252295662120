/**
 * transformers.js settings for satc. satc resolves every model file itself (src/models/resolve.ts)
 * and hands transformers.js a local folder, so transformers.js never downloads anything: remote
 * models are off, local files on, its own cache points into satc's cache (never into node_modules),
 * and its logger is silenced (the library never prints).
 */
import { join } from "node:path";
import { defaultCacheDir } from "./resolve.js";

type Transformers = typeof import("@huggingface/transformers");
let loaded: Promise<Transformers> | null = null;

/** Import transformers.js once (it is large) and apply satc's settings. */
export async function transformers(cacheDir?: string): Promise<Transformers> {
  loaded ??= import("@huggingface/transformers");
  const t = await loaded;
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.useFSCache = false;
  t.env.cacheDir = join(cacheDir ?? defaultCacheDir(), "transformers");
  t.env.logLevel = t.LogLevel.NONE;
  return t;
}
