/** Wrong use of the command line (bad argument, unreadable input). Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Exit codes of the `spiderflow-push` CLI. */
export const EXIT = {
  /** Delivered, duplicate, or skipped as unchanged; or the command succeeded. */
  ok: 0,
  /** Refused by the receiver (reason printed), or the connection test failed. */
  refused: 1,
  /** Usage or configuration error. */
  usage: 2,
  /** Gave up after retries. */
  gaveUp: 3,
} as const;
