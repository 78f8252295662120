/**
 * Errors a user can act on. The CLI prints their message without a stack trace:
 * `SatcError` exits with status 1 (failure at run time), `UsageError` with status 2 (bad usage).
 * Messages repeat the bad value and, where it helps, the allowed ones or the file concerned.
 */
export class SatcError extends Error {
  /** The file or input the problem is about, when there is one. */
  readonly file?: string;
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SatcError";
    this.file = options?.file;
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** "expected <what> for <option> but received <value>" — one wording for every bad value. */
export function expected(what: string, option: string, received: unknown): string {
  const shown = typeof received === "string" ? `'${received}'` : String(received);
  return `expected ${what} for ${option} but received ${shown}`;
}
