/**
 * The only file of viper-probe that reads the environment: PROBE_URL, PROBE_TIMEOUT_MS and
 * V2RAY_BIN (checked exactly as the store checks them, by @viper/probe), and PROBER_SECRET, the
 * key `run` signs its measurements with (one of the store's PROBER_SECRETS).
 */
import { type EnvSource, type ProbeEnv, ProbeEnvError, readProbeEnv } from "@viper/probe";
import { parseSecrets, SecretError } from "@viper/protocol";

export type { EnvSource };

/** A bad or missing environment value; the message names the variable. Exit code 2. */
export class CliEnvError extends Error {
  override name = "CliEnvError";
}

/** The process environment, unless a test passes its own. */
export function environment(source?: EnvSource): EnvSource {
  return source ?? process.env;
}

/** PROBE_URL, PROBE_TIMEOUT_MS, V2RAY_BIN (V2RAY_BIN or PATH). */
export function readCheckEnv(source?: EnvSource): ProbeEnv {
  try {
    return readProbeEnv(environment(source));
  } catch (error) {
    if (error instanceof ProbeEnvError) throw new CliEnvError(error.message);
    throw error;
  }
}

/** PROBER_SECRET, validated like the store's secrets (length, leaked seed values, whsec_ base64). */
export function readProberSecret(source?: EnvSource): string {
  const value = environment(source)["PROBER_SECRET"]?.trim();
  if (!value) {
    throw new CliEnvError(
      "PROBER_SECRET is not set: set it to one of the store's PROBER_SECRETS (measurements are signed with it)",
    );
  }
  try {
    parseSecrets(value, { variable: "PROBER_SECRET" });
  } catch (error) {
    if (error instanceof SecretError) throw new CliEnvError(error.message);
    throw error;
  }
  return value;
}
