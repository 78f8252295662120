/**
 * `satc report <run-dir>` rebuilds a run's report.html; `satc export <run-dir> <dest>` lays the
 * clusters out as folders of images for a file manager.
 */
import { dataDirOption, quietOption } from "../commonOptions.js";
import type { CommandSpec } from "../args.js";
import { writeReport } from "../../report/index.js";
import { exportClusters } from "../../export/index.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../../errors.js";

export const reportCommand: CommandSpec = {
  name: "report",
  summary: "Rebuild report.html in a run folder (self-contained: open it from disk in a browser).",
  positionals: [{ name: "<run-dir>", description: "a folder written by satc cluster" }],
  options: [
    dataDirOption,
    { name: "thumbs", type: "string", value: "<how>", description: "thumbnails embedded in the page or in a thumbs/ folder", choices: ["auto", "embed", "folder"], default: "auto" },
    quietOption,
  ],
  examples: ["satc report runs/photos"],
};

export async function runReportCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const progress = ctx.progress(Boolean(options.quiet));
  const r = await writeReport(positionals[0], {
    dataDir: options["data-dir"] as string | undefined,
    thumbs: options.thumbs as "auto" | "embed" | "folder",
    onProgress: (e) => progress.onProgress(e),
  });
  progress.done();
  ctx.stdout.write(`report ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB, thumbnails ${r.thumbnails})\n`);
  for (const note of r.notes) ctx.stdout.write(`note: ${note}\n`);
  return 0;
}

export const exportCommand: CommandSpec = {
  name: "export",
  summary: "Write one folder per cluster (named by number and names) holding its images.",
  positionals: [
    { name: "<run-dir>", description: "a folder written by satc cluster" },
    { name: "<dest>", description: "a new or empty folder" },
  ],
  options: [
    { name: "link", type: "boolean", description: "symbolic links to the original files (default)" },
    { name: "copy", type: "boolean", description: "copies of the original files" },
    dataDirOption,
    quietOption,
  ],
  examples: ["satc export runs/photos ~/photos-by-cluster --copy"],
};

export async function runExportCommand(positionals: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  if (options.link && options.copy) throw new UsageError("choose one of --link and --copy");
  const progress = ctx.progress(Boolean(options.quiet));
  const r = await exportClusters(positionals[0], positionals[1], {
    mode: options.copy ? "copy" : "link",
    dataDir: options["data-dir"] as string | undefined,
    onProgress: (e) => progress.onProgress(e),
  });
  progress.done();
  ctx.stdout.write(`exported ${r.files} image(s) into ${r.clusters.length} folders under ${r.dest} (${r.written})\n`);
  if (r.missing) ctx.stdout.write(`${r.missing} image(s) could not be found\n`);
  return 0;
}
