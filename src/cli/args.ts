/**
 * Command-line parsing driven by one option table per command: the same table parses argv,
 * validates values and prints --help. Pure functions, no I/O, so they are tested directly.
 */
import { UsageError, expected } from "../errors.js";

export type OptionType = "string" | "integer" | "number" | "boolean";

export interface OptionSpec {
  /** Long name without dashes, e.g. "seed". */
  name: string;
  /** One-letter alias without dash, e.g. "k". */
  short?: string;
  type: OptionType;
  /** Placeholder shown in help, e.g. "<n>". */
  value?: string;
  description: string;
  default?: string | number | boolean;
  /** Allowed values for string options. */
  choices?: readonly string[];
  /** Smallest allowed value for numeric options. */
  min?: number;
  /** Largest allowed value for numeric options. */
  max?: number;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, in order, e.g. ["<input>"]. */
  positionals: { name: string; description: string; required?: boolean }[];
  options: OptionSpec[];
  examples: string[];
}

export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  positionals: string[];
  options: ParsedOptions;
}

function optionLabel(o: OptionSpec): string {
  return `--${o.name}`;
}

function convert(o: OptionSpec, raw: string): string | number {
  if (o.type === "integer" || o.type === "number") {
    const v = Number(raw);
    const ok = raw.trim() !== "" && Number.isFinite(v) && (o.type === "number" || Number.isInteger(v));
    if (!ok) throw new UsageError(expected(o.type === "integer" ? "an integer" : "a number", optionLabel(o), raw));
    if (o.min !== undefined && v < o.min) throw new UsageError(expected(`a value >= ${o.min}`, optionLabel(o), raw));
    if (o.max !== undefined && v > o.max) throw new UsageError(expected(`a value <= ${o.max}`, optionLabel(o), raw));
    return v;
  }
  if (o.choices && !o.choices.includes(raw)) {
    throw new UsageError(expected(`one of ${o.choices.map((c) => `'${c}'`).join(", ")}`, optionLabel(o), raw));
  }
  return raw;
}

/** Levenshtein distance, for "did you mean" on unknown options. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function unknownOption(command: CommandSpec, given: string): UsageError {
  const name = given.replace(/^-+/, "");
  let best: OptionSpec | undefined;
  let bestD = Infinity;
  for (const o of command.options) {
    const dd = distance(name, o.name);
    if (dd < bestD) {
      bestD = dd;
      best = o;
    }
  }
  const hint = best && bestD <= 2 ? ` (did you mean --${best.name}?)` : "";
  return new UsageError(`unknown option '${given}' for 'satc ${command.name}'${hint}; see 'satc ${command.name} --help'`);
}

/**
 * Parse argv (without the command name) against a command's table. Accepts `--name value`,
 * `--name=value`, `-k value`, `-k=value`, `--flag`, `--no-flag`, and `--` to end options.
 * Defaults are filled in; unknown options, missing values and bad values throw UsageError.
 */
export function parseCommandLine(command: CommandSpec, argv: readonly string[]): Parsed {
  const byName = new Map(command.options.map((o) => [o.name, o]));
  const byShort = new Map(command.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const options: ParsedOptions = {};
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositionals || !arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const key = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec: OptionSpec | undefined;
    let negated = false;
    if (key.startsWith("--")) {
      spec = byName.get(key.slice(2));
      if (!spec && key.startsWith("--no-")) {
        spec = byName.get(key.slice(5));
        negated = spec?.type === "boolean";
        if (!negated) spec = undefined;
      }
    } else if (key.length === 2) {
      spec = byShort.get(key.slice(1));
    }
    if (!spec) throw unknownOption(command, key);
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        if (inline !== "true" && inline !== "false") throw new UsageError(expected("true or false", optionLabel(spec), inline));
        options[spec.name] = (inline === "true") !== negated;
      } else {
        options[spec.name] = !negated;
      }
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${optionLabel(spec)} needs a value ${spec.value ?? ""}`.trimEnd());
      raw = argv[++i];
    }
    options[spec.name] = convert(spec, raw);
  }
  for (const o of command.options) {
    if (options[o.name] === undefined && o.default !== undefined) options[o.name] = o.default;
    if (options[o.name] === undefined && o.required) throw new UsageError(`option ${optionLabel(o)}${o.short ? ` (-${o.short})` : ""} is required; see 'satc ${command.name} --help'`);
  }
  const required = command.positionals.filter((p) => p.required !== false).length;
  if (positionals.length < required) {
    throw new UsageError(`'satc ${command.name}' needs ${command.positionals.map((p) => p.name).join(" ")}; see 'satc ${command.name} --help'`);
  }
  if (positionals.length > command.positionals.length) {
    throw new UsageError(`unexpected argument '${positionals[command.positionals.length]}' for 'satc ${command.name}'`);
  }
  return { positionals, options };
}

/** Help text of one command: Usage, Arguments, Options, Examples. */
export function formatCommandHelp(command: CommandSpec): string {
  const lines = [`Usage: satc ${command.name} ${command.positionals.map((p) => p.name).join(" ")} [options]`, "", command.summary, ""];
  if (command.positionals.length) {
    lines.push("Arguments:");
    const w = Math.max(...command.positionals.map((p) => p.name.length));
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(w)}  ${p.description}`);
    lines.push("");
  }
  lines.push("Options:");
  const heads = command.options.map((o) => `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.type === "boolean" ? "" : ` ${o.value ?? "<value>"}`}`);
  const w = Math.max(...heads.map((h) => h.length), "    --help".length);
  command.options.forEach((o, i) => {
    let text = o.description;
    if (o.choices) text += ` (${o.choices.join("|")})`;
    if (o.default !== undefined && o.type !== "boolean") text += ` [default: ${o.default}]`;
    lines.push(`  ${heads[i].padEnd(w)}  ${text}`);
  });
  lines.push(`  ${"    --help".padEnd(w)}  Show this help`);
  if (command.examples.length) {
    lines.push("", "Examples:");
    for (const e of command.examples) lines.push(`  ${e}`);
  }
  return lines.join("\n") + "\n";
}
