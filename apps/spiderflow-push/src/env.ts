import { z } from "zod";
import { PushConfigError } from "./errors.js";
import { DEFAULT_HISTORY_FILE } from "./history.js";

/** The only place that reads `process.env`: everything else takes an environment object. */
export function processEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

export const DEFAULT_WEBHOOK_URL = "http://localhost:8002/webhook/nodes-update";

/** An unset variable and an empty one mean the same: use the default. */
const unsetIfEmpty = (value: unknown) => (value === "" ? undefined : value);

function integer(min: number, max: number, fallback: number) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
      .transform(Number)
      .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`)
      .default(fallback),
  );
}

const senderSchema = z.object({
  VIPER_WEBHOOK_URL: z.preprocess(
    unsetIfEmpty,
    z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).default(DEFAULT_WEBHOOK_URL),
  ),
  WEBHOOK_SECRET: z.preprocess(unsetIfEmpty, z.string().optional()),
  PUSH_HISTORY_FILE: z.preprocess(unsetIfEmpty, z.string().default(DEFAULT_HISTORY_FILE)),
  PUSH_RETRIES: integer(0, 100, 3),
  PUSH_RETRY_DELAY_MS: integer(0, 3_600_000, 5000),
  PUSH_TIMEOUT_MS: integer(1, 3_600_000, 15_000),
});

/** The sender's configuration (DESIGN 8, "Sender"). */
export interface SenderEnv {
  webhookUrl: string;
  /** Raw `WEBHOOK_SECRET` (space-separated for rotation), when set. */
  webhookSecret: string | undefined;
  historyFile: string;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

/** Validates the sender's environment; a bad value throws {@link PushConfigError} naming the variable. */
export function parseSenderEnv(env: Readonly<Record<string, string | undefined>>): SenderEnv {
  const result = senderSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    const value = env[variable];
    throw new PushConfigError(
      variable,
      `${variable}${value === undefined || variable === "WEBHOOK_SECRET" ? "" : ` ("${value}")`} ${issue?.message ?? "is invalid"}`,
    );
  }
  const parsed = result.data;
  return {
    webhookUrl: parsed.VIPER_WEBHOOK_URL,
    webhookSecret: parsed.WEBHOOK_SECRET,
    historyFile: parsed.PUSH_HISTORY_FILE,
    retries: parsed.PUSH_RETRIES,
    retryDelayMs: parsed.PUSH_RETRY_DELAY_MS,
    timeoutMs: parsed.PUSH_TIMEOUT_MS,
  };
}

/** `WEBHOOK_SECRET`, or a clear error saying it is needed. */
export function requireSecret(env: SenderEnv, command: string): string {
  if (env.webhookSecret === undefined || env.webhookSecret.trim() === "") {
    throw new PushConfigError(
      "WEBHOOK_SECRET",
      `WEBHOOK_SECRET is not set; "${command}" signs with it. Set it to the receiver's secret (the store prints where it keeps a generated one, e.g. data/webhook-secret).`,
    );
  }
  return env.webhookSecret;
}
