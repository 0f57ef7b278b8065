/**
 * The only file of @viper/probe that reads the environment (PROBE_URL, PROBE_TIMEOUT_MS, V2RAY_BIN,
 * PATH). Everything else takes these values as arguments, so tests and the store can pass their own.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export const DEFAULT_PROBE_URL = "https://www.gstatic.com/generate_204";
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

export type EnvSource = Readonly<Record<string, string | undefined>>;

export interface ProbeEnv {
  probeUrl: string;
  timeoutMs: number;
  /** Absolute path of the v2ray binary, or null when neither V2RAY_BIN nor PATH has one. */
  v2rayBin: string | null;
}

/** A bad environment value; the message names the variable and says what to do. */
export class ProbeEnvError extends Error {
  override name = "ProbeEnvError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads and validates PROBE_URL, PROBE_TIMEOUT_MS and V2RAY_BIN (falling back to PATH). */
export function readProbeEnv(env: EnvSource = process.env): ProbeEnv {
  return {
    probeUrl: parseProbeUrl(env["PROBE_URL"]),
    timeoutMs: parseTimeoutMs(env["PROBE_TIMEOUT_MS"]),
    v2rayBin: locateV2ray(env),
  };
}

export function parseProbeUrl(value: string | undefined, variable = "PROBE_URL"): string {
  if (value === undefined || value.trim() === "") return DEFAULT_PROBE_URL;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ProbeEnvError(
      variable,
      `${variable}="${value}" is not a URL; give an http(s) URL answering 204`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProbeEnvError(variable, `${variable}="${value}" must be an http:// or https:// URL`);
  }
  return url.href;
}

export function parseTimeoutMs(value: string | undefined, variable = "PROBE_TIMEOUT_MS"): number {
  if (value === undefined || value.trim() === "") return DEFAULT_PROBE_TIMEOUT_MS;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 100 || n > 120_000) {
    throw new ProbeEnvError(
      variable,
      `${variable}="${value}" must be a whole number of milliseconds, 100..120000`,
    );
  }
  return n;
}

/**
 * V2RAY_BIN when set (it must be an executable file: a typo should not silently degrade every
 * check to TCP), else the first `v2ray` on PATH, else null.
 */
export function locateV2ray(env: EnvSource = process.env): string | null {
  const explicit = env["V2RAY_BIN"]?.trim();
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new ProbeEnvError(
        "V2RAY_BIN",
        `V2RAY_BIN="${explicit}" is not an executable file; install v2ray (apt-get install v2ray) or unset V2RAY_BIN to search PATH`,
      );
    }
    return explicit;
  }
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, "v2ray");
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
