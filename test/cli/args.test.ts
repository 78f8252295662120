import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommandLine, formatCommandHelp, type CommandSpec } from "../../src/cli/args.js";
import { UsageError } from "../../src/errors.js";

const spec: CommandSpec = {
  name: "cluster",
  summary: "Cluster images.",
  positionals: [{ name: "<input>", description: "images" }],
  options: [
    { name: "k", short: "k", type: "integer", value: "<K>", description: "clusters", required: true, min: 1 },
    { name: "seed", type: "integer", value: "<n>", description: "seed", default: 0 },
    { name: "method", type: "string", value: "<m>", description: "method", choices: ["heads", "kmeans"], default: "heads" },
    { name: "lr", type: "number", value: "<x>", description: "rate" },
    { name: "json", type: "boolean", description: "json" },
  ],
  examples: ["satc cluster photos/ -k 5"],
};

test("parses short, long, inline and boolean forms and fills defaults", () => {
  const p = parseCommandLine(spec, ["data", "-k", "10", "--lr=0.5", "--json", "--method=kmeans"]);
  assert.deepEqual(p.positionals, ["data"]);
  assert.deepEqual(p.options, { k: 10, lr: 0.5, json: true, method: "kmeans", seed: 0 });
  assert.equal(parseCommandLine(spec, ["d", "-k=3", "--no-json"]).options.json, false);
});

test("rejects unknown options by name with a suggestion", () => {
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "2", "--sed", "1"]), (e: unknown) => e instanceof UsageError && /unknown option '--sed'.*did you mean --seed/.test(e.message));
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "2", "--banana"]), (e: unknown) => e instanceof UsageError && !/did you mean/.test(e.message));
});

test("bad values name the option and repeat the value", () => {
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "ten"]), /expected an integer for --k but received 'ten'/);
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "2.5"]), /expected an integer for --k/);
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "0"]), /expected a value >= 1 for --k but received '0'/);
  assert.throws(() => parseCommandLine(spec, ["d", "-k", "2", "--method", "magic"]), /expected one of 'heads', 'kmeans' for --method but received 'magic'/);
  assert.throws(() => parseCommandLine(spec, ["d", "-k"]), /option --k needs a value/);
  assert.throws(() => parseCommandLine(spec, ["d"]), /option --k \(-k\) is required/);
  assert.throws(() => parseCommandLine(spec, ["-k", "2"]), /needs <input>/);
  assert.throws(() => parseCommandLine(spec, ["a", "b", "-k", "2"]), /unexpected argument 'b'/);
});

test("-- ends options and negative numbers are values", () => {
  const p = parseCommandLine(spec, ["-k", "2", "--lr", "-0.5", "--", "--weird-name"]);
  assert.equal(p.options.lr, -0.5);
  assert.deepEqual(p.positionals, ["--weird-name"]);
});

test("help lists every option, its default and choices, and the examples", () => {
  const h = formatCommandHelp(spec);
  assert.match(h, /^Usage: satc cluster <input> \[options\]/);
  for (const o of spec.options) assert.ok(h.includes(`--${o.name}`), o.name);
  assert.match(h, /\(heads\|kmeans\) \[default: heads\]/);
  assert.match(h, /Examples:\n  satc cluster photos\/ -k 5/);
});
