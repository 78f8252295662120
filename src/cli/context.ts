/** What a CLI command may touch: its output streams and a progress reporter for stderr. */
import type { RunProgress } from "../run/cluster.js";

export interface ProgressSink {
  onProgress: (event: RunProgress) => void;
  done: () => void;
}

export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  progress: (quiet: boolean) => ProgressSink;
}
