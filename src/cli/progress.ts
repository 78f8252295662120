/**
 * Progress on the terminal for the CLI (the library itself never prints; it calls onProgress).
 *
 * - stderr is a terminal: a cli-progress bar per stage with count, rate and ETA, redrawn in place;
 *   `line(text)` prints above the bar without breaking it.
 * - stderr is not a terminal (CI, a log file): plain lines, at most one per `intervalMs` per stage,
 *   plus one when a stage starts and one when it ends.
 * - quiet: nothing at all.
 *
 * Also: `formatTable`, the plain-text table for the final summary.
 */
import cliProgress from "cli-progress";

/** A stream to draw on (process.stderr, or a fake one in tests). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Print nothing. Default false. */
  quiet?: boolean;
  /** Draw bars (true) or plain lines (false). Default: whether the stream is a terminal. */
  tty?: boolean;
  /** Plain mode: least time between two lines of one stage, in ms. Default 5000. */
  intervalMs?: number;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
}

export interface Progress {
  /** Begin a stage: `total` units of work (undefined when unknown), e.g. ("encode", 10000, "images"). Ends the previous stage. */
  start(label: string, total: number | undefined, unit?: string): void;
  /** `done` units finished so far; `extra` is shown after the numbers (e.g. "loss 4.21"). */
  update(done: number, extra?: string): void;
  /** End the current stage (its final state stays on screen). */
  stop(): void;
  /** Print one line of text (above the bar when one is drawn). */
  line(text: string): void;
}

/** A stage event as the library's onProgress callbacks send them. */
export interface StageEvent {
  stage: string;
  done?: number;
  total?: number;
  message?: string;
}

/** Create a progress reporter; see the module comment for the three modes. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { start() {}, update() {}, stop() {}, line() {} };
  const tty = options.tty ?? Boolean(stream.isTTY);
  const now = options.now ?? Date.now;
  return tty ? barProgress(stream, now) : lineProgress(stream, now, options.intervalMs ?? 5000);
}

interface Stage {
  label: string;
  total: number | undefined;
  unit: string;
  started: number;
  done: number;
  extra: string;
}

function newStage(label: string, total: number | undefined, unit: string | undefined, started: number): Stage {
  return { label, total: total !== undefined && total > 0 ? total : undefined, unit: unit ?? "", started, done: 0, extra: "" };
}

/** Units per second so far, or NaN before any time has passed. */
function rateOf(s: Stage, t: number): number {
  const seconds = (t - s.started) / 1000;
  return seconds > 0 ? s.done / seconds : NaN;
}

function withUnit(value: string, unit: string): string {
  return unit ? `${value} ${unit}` : value;
}

function barProgress(stream: ProgressStream, now: () => number): Progress {
  let multi: cliProgress.MultiBar | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let stage: Stage | null = null;
  const payload = (s: Stage) => {
    const r = rateOf(s, now());
    const eta = s.total !== undefined && r > 0 ? (s.total - s.done) / r : NaN;
    return {
      label: s.label,
      unit: s.unit ? ` ${s.unit}` : "",
      rate: Number.isFinite(r) ? `${formatRate(r)}${s.unit ? ` ${s.unit}` : ""}/s` : "–/s",
      remaining: formatDuration(eta),
      extra: s.extra ? ` | ${s.extra}` : "",
    };
  };
  const stop = () => {
    if (multi && bar && stage) bar.update(stage.done, payload(stage));
    multi?.stop();
    multi = null;
    bar = null;
    stage = null;
  };
  return {
    start(label, total, unit) {
      stop();
      stage = newStage(label, total, unit, now());
      const format = stage.total !== undefined
        ? "{label} |{bar}| {percentage}% {value}/{total}{unit} | {rate} | ETA {remaining}{extra}"
        : "{label} {value}{unit} | {rate}{extra}";
      multi = new cliProgress.MultiBar(
        // No SIGINT handler (gracefulExit): it would stop Ctrl-C from ending the process. The cursor stays visible for the same reason.
        { stream, format, hideCursor: false, barsize: 30, fps: 10, autopadding: true, barCompleteChar: "█", barIncompleteChar: "░", gracefulExit: false },
      );
      bar = multi.create(stage.total ?? 0, 0, payload(stage));
    },
    update(done, extra) {
      if (!stage || !bar) return;
      stage.done = done;
      if (extra !== undefined) stage.extra = extra;
      bar.update(done, payload(stage));
    },
    stop,
    line(text) {
      if (multi) {
        multi.log(text.endsWith("\n") ? text : text + "\n");
        multi.update();
      } else {
        stream.write(text.endsWith("\n") ? text : text + "\n");
      }
    },
  };
}

function lineProgress(stream: ProgressStream, now: () => number, intervalMs: number): Progress {
  let stage: Stage | null = null;
  let lastLine = 0;
  const write = (text: string) => stream.write(text + "\n");
  const describe = (s: Stage, t: number) => {
    const r = rateOf(s, t);
    const parts = [s.total !== undefined ? `${withUnit(`${s.done}/${s.total}`, s.unit)} (${Math.floor((100 * s.done) / s.total)}%)` : withUnit(String(s.done), s.unit)];
    if (Number.isFinite(r)) parts.push(`${formatRate(r)}${s.unit ? ` ${s.unit}` : ""}/s`);
    if (s.total !== undefined && r > 0 && s.done < s.total) parts.push(`ETA ${formatDuration((s.total - s.done) / r)}`);
    if (s.extra) parts.push(s.extra);
    return `${s.label}: ${parts.join(", ")}`;
  };
  const stop = () => {
    if (!stage) return;
    const t = now();
    const s = stage;
    const r = rateOf(s, t);
    const amount = s.total !== undefined ? withUnit(`${s.done}/${s.total}`, s.unit) : withUnit(String(s.done), s.unit);
    write(`${s.label}: done, ${amount} in ${formatDuration((t - s.started) / 1000)}${Number.isFinite(r) && s.done > 0 ? ` (${formatRate(r)}${s.unit ? ` ${s.unit}` : ""}/s)` : ""}${s.extra ? `, ${s.extra}` : ""}`);
    stage = null;
  };
  return {
    start(label, total, unit) {
      stop();
      stage = newStage(label, total, unit, now());
      lastLine = stage.started;
      write(`${label}: started${stage.total !== undefined ? `, ${withUnit(String(stage.total), stage.unit)}` : ""}`);
    },
    update(done, extra) {
      if (!stage) return;
      stage.done = done;
      if (extra !== undefined) stage.extra = extra;
      const t = now();
      if (t - lastLine >= intervalMs) {
        lastLine = t;
        write(describe(stage, t));
      }
    },
    stop,
    line(text) {
      write(text.replace(/\n$/, ""));
    },
  };
}

/**
 * Adapter from the library's stage events to a Progress: a new stage starts a new bar; events
 * with a message and no count become lines. `done()` ends the last stage. A count that goes back
 * (the next restart's epoch 1 after the last one's epoch 20) starts the stage anew, so its rate
 * and ETA are of this pass, not of all passes so far.
 */
export function stageProgress(progress: Progress, units: Record<string, string> = {}): { onProgress: (event: StageEvent) => void; done: () => void } {
  let current: string | null = null;
  let currentTotal: number | undefined;
  let currentDone = 0;
  return {
    onProgress(e) {
      if (e.done === undefined && e.total === undefined) {
        if (e.message) progress.line(`${e.stage}: ${e.message}`);
        return;
      }
      const done = e.done ?? 0;
      if (e.stage !== current || e.total !== currentTotal || done < currentDone) {
        current = e.stage;
        currentTotal = e.total;
        progress.start(e.stage, e.total, units[e.stage]);
      }
      currentDone = done;
      progress.update(done, e.message);
    },
    done() {
      progress.stop();
      current = null;
    },
  };
}

/** 1234.5 -> "1235", 12.34 -> "12.3", 1.234 -> "1.23". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "–";
  if (perSecond >= 100) return String(Math.round(perSecond));
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

/** Seconds as "42s", "3m05s", "2h07m"; "–" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export interface TableOptions {
  /** Column titles; a rule of dashes goes under them. */
  header?: string[];
  /** Alignment per column; default: right for cells that all look like numbers, left otherwise. */
  align?: ("left" | "right")[];
}

/**
 * A plain-text table: columns padded to their widest cell, two spaces apart, no trailing spaces.
 * For the final summary, e.g. formatTable([["ACC", "0.6512"], ["NMI", "0.6120"]]).
 */
export function formatTable(rows: string[][], options: TableOptions = {}): string {
  const all = options.header ? [options.header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((r) => r.length));
  const width = Array.from({ length: columns }, (_, c) => Math.max(0, ...all.map((r) => (r[c] ?? "").length)));
  const numeric = /^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?%?$|^[–-]$/i;
  const align = Array.from({ length: columns }, (_, c) =>
    options.align?.[c] ?? (rows.length > 0 && rows.every((r) => numeric.test(r[c] ?? "–")) ? "right" : "left"));
  const format = (r: string[]) =>
    r.length === 0 ? "" : width.map((w, c) => (align[c] === "right" ? (r[c] ?? "").padStart(w) : (r[c] ?? "").padEnd(w))).join("  ").trimEnd();
  const lines = rows.map(format);
  if (options.header) lines.unshift(format(options.header), width.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n") + "\n";
}

/** Write the final summary table to `stream` (results go to the CLI's stdout, even with --quiet). */
export function printSummary(stream: NodeJS.WritableStream, rows: string[][], options: TableOptions = {}): void {
  stream.write(formatTable(rows, options));
}
