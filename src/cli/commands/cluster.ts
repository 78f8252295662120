/**
 * `satc cluster <input> -k <K>`: the main job. A thin layer over `runCluster` and
 * `writeRunFolder`: parse, run, write the run folder, print the summary (or one JSON document).
 */
import { join, resolve } from "node:path";
import { cacheDirFrom, cacheOptions, dataDirOption, jsonOption, quietOption } from "../commonOptions.js";
import type { CommandSpec } from "../args.js";
import { runCluster, clusterMethods, type ClusterMethod } from "../../run/cluster.js";
import { writeRunFolder } from "../../run/folder.js";
import type { EncoderName } from "../../encoders/index.js";
import { encoderOptionsFrom, modelOptions, spatialChannelsOption } from "../modelOptions.js";
import type { RunRecord, Scores } from "../../run/record.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../../errors.js";
import { spatialVariants, type SpatialVariant } from "../../spatial/method.js";
import { textModes, type TextMode } from "../../text/index.js";
import { formatTable } from "../progress.js";
import { summarizeScores } from "../../evaluation/summary.js";
import { writeReport } from "../../report/index.js";

export const clusterCommand: CommandSpec = {
  name: "cluster",
  summary: "Cluster the images (or features) of <input> into K groups and write a run folder.",
  positionals: [
    {
      name: "<input>",
      description: "a folder of images (sub-folders = labels), a .npy feature matrix, an IDX file, or a dataset spec (fashion-mnist:train, cifar10:test, ...); optional with --features",
      required: false,
    },
  ],
  options: [
    { name: "k", short: "k", type: "integer", value: "<K>", description: "number of clusters", required: true, min: 1 },
    { name: "eval", type: "string", value: "<input>", description: "a second input to assign to the learned clusters and score" },
    ...modelOptions,
    { name: "method", type: "string", value: "<name>", description: "clustering method: the method's heads, or k-means on the visual view", choices: clusterMethods, default: "heads" },
    { name: "spatial", type: "string", value: "<name>", description: "spatial view of the heads (patch graph encoder); nodes: the pixel grid with --encoder pixels, ResNet-50's 7x7 map with clip/resnet50", choices: spatialVariants, default: "none" },
    spatialChannelsOption,
    { name: "text", type: "string", value: "<mode>", description: "text view: auto uses it when tau > 0.33", choices: textModes, default: "auto" },
    { name: "features", type: "string", value: "<dir>", description: "precomputed image + noun embeddings (.npy; satc's or TAC's layout) instead of encoding" },
    { name: "metric", type: "string", value: "<name>", description: "k-means distance", choices: ["euclidean", "cosine"], default: "euclidean" },
    { name: "n-init", type: "integer", value: "<n>", description: "k-means restarts per seed", default: 10, min: 1 },
    { name: "epochs", type: "integer", value: "<n>", description: "most training epochs of the heads", default: 200, min: 1 },
    { name: "restarts", type: "integer", value: "<n>", description: "heads: trainings per seed, the lowest final loss kept (label-free)", default: 5, min: 1 },
    { name: "patience", type: "integer", value: "<n>", description: "stop training after this many epochs without a lower loss", default: 10, min: 1 },
    { name: "seed", type: "integer", value: "<n>", description: "random seed (run r uses seed + r)", default: 0, min: 0 },
    { name: "runs", type: "integer", value: "<n>", description: "repeat with consecutive seeds and report mean and std", default: 1, min: 1 },
    { name: "out", short: "o", type: "string", value: "<dir>", description: "run folder [default: runs/<input>-<time>]" },
    { name: "labels", type: "string", value: "<file>", description: "labels for a .npy or IDX input (.npy of integers, or text: one label or class name per line)" },
    dataDirOption,
    ...cacheOptions,
    { name: "report", type: "boolean", description: "write report.html in the run folder (--no-report to skip)", default: true },
    jsonOption,
    quietOption,
  ],
  examples: [
    "satc cluster fashion-mnist:train -k 10 --eval fashion-mnist:test",
    "satc cluster ~/photos -k 8 --out runs/photos",
    "satc cluster features.npy -k 20 --json",
    "satc cluster fashion-mnist:train -k 10 --spatial gat --eval fashion-mnist:test",
    "satc cluster ~/photos -k 8 --encoder clip --spatial gat",
    "satc cluster features.npy -k 20 --method kmeans",
  ],
};

function defaultOut(input: string): string {
  const base = input.replace(/[\\/]+$/, "").split(/[\\/]/).pop()!.replace(/[^A-Za-z0-9._-]+/g, "-") || "input";
  const stamp = new Date().toISOString().replace(/[:]/g, "").replace(/\..*/, "");
  return join("runs", `${base}-${stamp}`);
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const KEYS: (keyof Scores)[] = ["acc", "nmi", "ari"];

/** The plain-text summary printed on stdout without --json: a header, a table of scores, where things are. */
export function formatSummary(record: RunRecord, out: string, reportPath: string | null): string {
  const enc = record.encoder.baseline ? `${record.encoder.name} (weight-free baseline)` : record.encoder.name;
  const lines = [`satc cluster ${record.input.source}: n=${record.input.n}, k=${record.clusters.k}, encoder ${enc}, method ${record.options.method}`];
  const t = record.text;
  if (t?.unavailable) lines.push(`text view: not available: ${t.unavailable}`);
  else if (t && t.tau === null) lines.push(`text view: off (--text ${t.mode})`);
  else if (t && t.tau !== null) lines.push(`text view: tau=${t.tau.toFixed(3)} (threshold ${t.threshold}) -> ${t.used ? "used" : "not used"} (--text ${t.mode})`);
  if (record.input.skipped.length) lines.push(`skipped ${record.input.skipped.length} unreadable item(s), listed in run.json`);
  lines.push("");
  const rows: string[][] = [];
  const seeds = record.runs.length;
  const row = (name: string, n: number, pick: (r: RunRecord["runs"][number]) => Scores | null | undefined) => {
    const all = record.runs.flatMap((r) => pick(r) ?? []);
    const s = summarizeScores(all);
    if (!s) return rows.push([name, String(n), "-", "-", "-"]);
    rows.push([name, String(n), ...KEYS.map((k) => (seeds === 1 ? pct(s.mean[k]) : `${pct(s.mean[k])} ± ${(100 * s.std[k]).toFixed(2)}`))]);
  };
  row(record.input.name, record.input.n, (r) => r.metrics);
  if (record.evalInput && record.eval) row(`eval ${record.evalInput.name}`, record.eval.n, (r) => r.eval?.metrics);
  lines.push(formatTable(rows, { header: ["input", "n", "ACC", "NMI", "ARI"], align: ["left", "right", "right", "right", "right"] }).trimEnd());
  if (seeds > 1) lines.push(`mean ± std over ${seeds} seeds (${record.runs.map((r) => r.seed).join(", ")})`);
  if (!record.input.hasLabels) lines.push("(no labels: scores need sub-folder names or a labelled dataset)");
  lines.push("", `cluster sizes: ${record.clusters.sizes.join(" ")}`);
  for (const r of record.runs) for (const w of r.warnings) lines.push(`warning (seed ${r.seed}): ${w}`);
  lines.push(`time ${record.timings.total.toFixed(1)} s`, `run folder ${out}`);
  if (reportPath) lines.push(`report ${reportPath}`);
  return lines.join("\n") + "\n";
}

export async function runClusterCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const input = positionals[0] as string | undefined;
  const features = options.features as string | undefined;
  if (input === undefined && features === undefined) throw new UsageError("'satc cluster' needs <input> or --features <dir>; see 'satc cluster --help'");
  const out = resolve((options.out as string | undefined) ?? defaultOut(input ?? features!));
  const progress = ctx.progress(Boolean(options.quiet) || false);
  const result = await runCluster({
    input,
    k: options.k as number,
    evalInput: options.eval as string | undefined,
    dataDir: options["data-dir"] as string | undefined,
    labels: options.labels as string | undefined,
    encoder: options.encoder as EncoderName,
    encoderOptions: encoderOptionsFrom(options),
    spatial: options.spatial as SpatialVariant,
    spatialNodes: { channels: options["spatial-channels"] as number | undefined },
    text: options.text as TextMode,
    features,
    templates: options.templates as number | undefined,
    method: options.method as ClusterMethod,
    metric: options.metric as "euclidean" | "cosine",
    nInit: options["n-init"] as number,
    epochs: options.epochs as number,
    patience: options.patience as number,
    restarts: options.restarts as number,
    seed: options.seed as number,
    runs: options.runs as number,
    cacheDir: cacheDirFrom(options),
    onProgress: progress.onProgress,
  });
  progress.done();
  await writeRunFolder(out, result.record, result.assignments);
  let reportPath: string | null = null;
  if (options.report !== false) {
    const report = await writeReport(out, { dataDir: options["data-dir"] as string | undefined, onProgress: (e) => progress.onProgress(e) });
    progress.done();
    reportPath = report.path;
  }
  const r = result.record;
  if (options.json) {
    const doc = {
      n: r.input.n,
      clusters: r.clusters.k,
      sizes: r.clusters.sizes,
      metrics: r.metrics,
      eval: r.eval ? { n: r.eval.n, metrics: r.eval.metrics } : null,
      runs: r.runs.length > 1 ? { n: r.runs.length, mean: r.summary?.mean ?? null, std: r.summary?.std ?? null } : undefined,
      skipped: r.input.skipped.length,
      seconds: r.timings.total,
      out,
      report: reportPath,
    };
    ctx.stdout.write(JSON.stringify(doc) + "\n");
  } else {
    ctx.stdout.write(formatSummary(r, out, reportPath));
  }
  return 0;
}
