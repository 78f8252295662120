#!/usr/bin/env node
/**
 * The `satc` command. Exit codes: 0 success, 1 failure at run time, 2 bad usage.
 * Results go to stdout, progress and errors to stderr. Set SATC_DEBUG=1 to see stack traces.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatCommandHelp, parseCommandLine, type CommandSpec } from "./args.js";
import { clusterCommand, runClusterCommand } from "./commands/cluster.js";
import { encodeCommand, runEncodeCommand } from "./commands/encode.js";
import { nounsCommand, runNounsCommand } from "./commands/nouns.js";
import { ablateCommand, runAblateCommand } from "./commands/ablate.js";
import { exportCommand, reportCommand, runExportCommand, runReportCommand } from "./commands/report.js";
import type { CliContext } from "./context.js";
import { createProgress, stageProgress } from "./progress.js";
import { SatcError, UsageError } from "../errors.js";
import { satcVersion } from "../version.js";


interface Command {
  spec: CommandSpec;
  run: (positionals: string[], options: Record<string, unknown>, ctx: CliContext) => Promise<number>;
}

const commands: Record<string, Command> = {
  cluster: { spec: clusterCommand, run: runClusterCommand },
  encode: { spec: encodeCommand, run: runEncodeCommand },
  report: { spec: reportCommand, run: runReportCommand },
  export: { spec: exportCommand, run: runExportCommand },
  ablate: { spec: ablateCommand, run: runAblateCommand },
  nouns: { spec: nounsCommand, run: runNounsCommand },
};

function mainHelp(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "Usage: satc <command> [options]",
    "",
    "Cluster unlabeled images into K groups with the SATC method.",
    "",
    "Commands:",
    ...Object.values(commands).map((c) => `  ${c.spec.name.padEnd(w)}  ${c.spec.summary}`),
    "",
    "Options:",
    "  --help     Show help (also: satc <command> --help)",
    "  --version  Print the version",
    "",
    "Examples:",
    ...commands.cluster.spec.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      (name === undefined ? ctx.stderr : ctx.stdout).write(mainHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-v") {
      ctx.stdout.write(satcVersion + "\n");
      return 0;
    }
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command '${name}'; expected one of ${Object.keys(commands).join(", ")} (see 'satc --help')`);
    if (rest.includes("--help") || rest.includes("-h")) {
      ctx.stdout.write(formatCommandHelp(command.spec));
      return 0;
    }
    const parsed = parseCommandLine(command.spec, rest);
    return await command.run(parsed.positionals, parsed.options, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`satc: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SatcError) {
      ctx.stderr.write(`satc: ${err.message}\n`);
      if (process.env.SATC_DEBUG) ctx.stderr.write(`${err.stack}\n`);
      return 1;
    }
    const e = err as Error;
    ctx.stderr.write(`satc: unexpected error: ${e?.message ?? String(err)}\n${process.env.SATC_DEBUG ? e?.stack + "\n" : "(set SATC_DEBUG=1 for the stack trace)\n"}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  // npm's bin link (node_modules/.bin/satc) is a symlink: compare real paths.
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

const isEntry = isEntryPoint();
if (isEntry) {
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    progress: (quiet) => stageProgress(createProgress({ stream: process.stderr, quiet }), { encode: "images", neighbors: "items", train: "epochs", kmeans: "restarts" }),
  };
  main(process.argv.slice(2), ctx).then((code) => {
    process.exitCode = code;
  });
}
