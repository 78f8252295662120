/**
 * Options several commands share, spelled once: where dataset specs find their files, the
 * feature cache, and how results and progress are printed.
 */
import type { OptionSpec } from "./args.js";

export const dataDirOption: OptionSpec = { name: "data-dir", type: "string", value: "<dir>", description: "where dataset specs (fashion-mnist:...) find their files" };

export const cacheDirOption: OptionSpec = { name: "cache-dir", type: "string", value: "<dir>", description: "feature cache [default: $SATC_CACHE/features or ~/.cache/satc/features]" };

/** --cache-dir and --no-cache; read them back with cacheDirFrom. */
export const cacheOptions: readonly OptionSpec[] = [
  cacheDirOption,
  { name: "no-cache", type: "boolean", description: "do not read or write the feature cache" },
];

/** The feature cache the options ask for: a folder, false for none, undefined for the default. */
export function cacheDirFrom(options: Record<string, unknown>): string | false | undefined {
  return options["no-cache"] ? false : (options["cache-dir"] as string | undefined);
}

export const jsonOption: OptionSpec = { name: "json", type: "boolean", description: "print exactly one JSON document on stdout" };
export const quietOption: OptionSpec = { name: "quiet", short: "q", type: "boolean", description: "no progress on stderr" };
