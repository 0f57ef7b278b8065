import type { EnvSource } from "../env.js";

/** What a command may touch, so tests run commands in-process without exiting. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Default: the process environment (read in env.ts only). */
  env?: EnvSource;
}

/** Bad command line or environment: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const EXIT_OK = 0;
/** `check`: the node failed or could not be checked. `run`: the store refused the measurements. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** `run`: the push gave up after its retries (as spiderflow-push). */
export const EXIT_GAVE_UP = 3;
