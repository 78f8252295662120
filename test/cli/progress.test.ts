import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { createProgress, formatDuration, formatRate, formatTable, stageProgress } from "../../src/cli/progress.js";

/** A stream that keeps what is written; `isTTY` as asked. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  return { stream, text: () => chunks.join("") };
}

describe("plain lines when stderr is not a terminal", () => {
  test("a line at start, at most one per interval, and one at the end with the rate", () => {
    const out = sink(false);
    let t = 1_000_000;
    const p = createProgress({ stream: out.stream, now: () => t, intervalMs: 5000 });
    p.start("encode", 100, "images");
    t += 1000;
    p.update(10);
    t += 3000;
    p.update(40); // 4 s after start: still inside the interval
    t += 2000;
    p.update(60, "batch 6"); // 6 s after start: 10 images/s, 40 left -> 4 s
    p.line("note: cache hit");
    t += 4000;
    p.update(100);
    p.stop();
    assert.deepEqual(out.text().split("\n"), [
      "encode: started, 100 images",
      "encode: 60/100 images (60%), 10.0 images/s, ETA 4s, batch 6",
      "note: cache hit",
      "encode: done, 100/100 images in 10s (10.0 images/s), batch 6",
      "",
    ]);
  });

  test("unknown totals and a new stage ending the previous one", () => {
    const out = sink(false);
    let t = 0;
    const p = createProgress({ stream: out.stream, now: () => t, intervalMs: 1000 });
    p.start("scan", undefined, "files");
    t = 2000;
    p.update(500);
    p.start("train", 200, "epochs");
    t = 2500;
    p.stop();
    p.stop(); // a second stop prints nothing
    assert.deepEqual(out.text().split("\n"), [
      "scan: started",
      "scan: 500 files, 250 files/s",
      "scan: done, 500 files in 2s (250 files/s)",
      "train: started, 200 epochs",
      "train: done, 0/200 epochs in 1s",
      "",
    ]);
  });
});

describe("bars on a terminal", () => {
  test("a cli-progress bar with count, rate and ETA; lines go above it", () => {
    const out = sink(true);
    let t = 0;
    const p = createProgress({ stream: out.stream, now: () => t });
    p.start("encode", 200, "images");
    t = 2000;
    p.update(50, "loss 4.2");
    p.line("a message");
    t = 4000;
    p.update(200);
    p.stop();
    const text = out.text();
    assert.match(text, /encode \|[█░]+\| 100% 200\/200 images \| 50\.0 images\/s \| ETA 0s \| loss 4\.2/);
    assert.match(text, /a message\n/);
    assert.ok(text.includes("\u001b["), "terminal control sequences");
  });
});

test("quiet prints nothing at all", () => {
  for (const isTTY of [true, false]) {
    const out = sink(isTTY);
    const p = createProgress({ stream: out.stream, quiet: true });
    p.start("encode", 10, "images");
    p.update(5);
    p.line("hello");
    p.stop();
    assert.equal(out.text(), "");
  }
});

test("stageProgress turns library events into stages and lines", () => {
  const calls: string[] = [];
  const progress = {
    start: (label: string, total: number | undefined, unit?: string) => calls.push(`start ${label} ${total} ${unit}`),
    update: (done: number, extra?: string) => calls.push(`update ${done}${extra ? ` ${extra}` : ""}`),
    stop: () => calls.push("stop"),
    line: (text: string) => calls.push(`line ${text}`),
  };
  const s = stageProgress(progress, { encode: "images" });
  s.onProgress({ stage: "open", message: "fashion-mnist:test" });
  s.onProgress({ stage: "encode", done: 0, total: 10 });
  s.onProgress({ stage: "encode", done: 10, total: 10 });
  s.onProgress({ stage: "cluster", done: 1, total: 3, message: "restart 1" });
  // The next restart counts its epochs from 1 again: a new pass of the same stage.
  s.onProgress({ stage: "train", done: 19, total: 20, message: "restart 1/2" });
  s.onProgress({ stage: "train", done: 20, total: 20, message: "restart 1/2" });
  s.onProgress({ stage: "train", done: 1, total: 20, message: "restart 2/2" });
  s.done();
  assert.deepEqual(calls, [
    "line open: fashion-mnist:test",
    "start encode 10 images",
    "update 0",
    "update 10",
    "start cluster 3 undefined",
    "update 1 restart 1",
    "start train 20 undefined",
    "update 19 restart 1/2",
    "update 20 restart 1/2",
    "start train 20 undefined",
    "update 1 restart 2/2",
    "stop",
  ]);
});

describe("formatting", () => {
  test("rates and durations", () => {
    assert.deepEqual([formatRate(1234.5), formatRate(12.34), formatRate(1.234), formatRate(NaN)], ["1235", "12.3", "1.23", "–"]);
    assert.deepEqual([formatDuration(42.4), formatDuration(185), formatDuration(7620), formatDuration(Infinity)], ["42s", "3m05s", "2h07m", "–"]);
  });
  test("summary table: padded columns, numbers right-aligned, no trailing spaces", () => {
    const table = formatTable([["ACC", "0.6512", "ok"], ["NMI", "0.61", "a longer note"], ["items", "10,000", ""]], { header: ["metric", "value", "note"] });
    assert.equal(table, [
      "metric   value  note",
      "------  ------  -------------",
      "ACC     0.6512  ok",
      "NMI       0.61  a longer note",
      "items   10,000",
      "",
    ].join("\n"));
  });
});
