/** What a CLI command may touch: its output streams and a progress reporter for stderr. */
import type { StageEvent } from "./progress.js";

export interface ProgressSink {
  /** Any library stage event ({ stage, done?, total?, message? }). */
  onProgress: (event: StageEvent) => void;
  done: () => void;
}

export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  progress: (quiet: boolean) => ProgressSink;
}
