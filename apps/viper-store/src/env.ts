import { z } from "zod";

/**
 * Every variable of DESIGN.md section 8 that the store reads, parsed once at start.
 * Variables of later features (poller, probes, precision test) are declared here too,
 * with their defaults, so a typo in any of them stops the process on day one.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const positiveNumber = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, "must be a positive number")
  .transform(Number)
  .pipe(z.number().positive("must be greater than 0"));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }))
  .transform((v) => v === "true" || v === "1" || v === "yes");

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const httpUrl = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .pipe(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional())
  .optional();

const databaseUrl = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .pipe(
    z
      .string()
      .refine((v) => v === "pglite:memory" || /^postgres(ql)?:\/\//.test(v), {
        message:
          "must be postgres://user@host:port/db, postgresql://…, or pglite:memory (leave it unset for the embedded database in $DATA_DIR/pglite)",
      })
      .optional(),
  )
  .optional();

/**
 * CORS_ORIGINS: origins allowed to read the API from a browser, separated by commas or spaces
 * (`https://a.example, http://localhost:5173`), or `*`. Unset → no CORS headers at all.
 */
const corsOrigins = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(/[\s,]+/).filter((o) => o !== ""))
  .pipe(
    z.array(
      z.string().refine((o) => o === "*" || /^https?:\/\/[^/\s?#]+$/.test(o), {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not an origin: give scheme://host[:port] without a path (e.g. https://app.example), or *`,
      }),
    ),
  );

export const envSchema = z.object({
  PORT: int(0, 65535).default(8002),
  HOST: z.string().trim().min(1, "must not be empty").default("127.0.0.1"),
  DATA_DIR: z.string().trim().min(1, "must not be empty").default("./data"),
  DATABASE_URL: databaseUrl,
  WEBHOOK_SECRET: optionalText,
  ADMIN_TOKEN: optionalText.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  PROBER_SECRETS: optionalText,
  WEBHOOK_TOLERANCE_S: int(1, 86400).default(300),
  MAX_BODY_BYTES: int(1024).default(33554432),
  ACCEPT_LEGACY_SIGNATURES: bool.default(false),
  SPIDERFLOW_API_URL: httpUrl,
  SPIDERFLOW_FEED_URL: httpUrl,
  POLL_INTERVAL: int(0, 86400 * 7).default(300),
  STALE_PURGE_DAYS: int(0, 36500).default(7),
  HISTORY_RETENTION_DAYS: int(0, 36500).default(30),
  REGION: optionalText,
  PROBE_URL: httpUrl,
  PROBE_TIMEOUT_MS: int(1, 600000).default(5000),
  PROBE_STALE_AFTER: int(0).default(21600),
  V2RAY_BIN: optionalText,
  PROBE_PER_IP_PER_MINUTE: int(1).default(30),
  PRECISION_TEST_URLS: optionalText,
  PRECISION_MAX_MB: int(1, 100000).default(50),
  PRECISION_MAX_SECONDS: int(1, 3600).default(30),
  PRECISION_MAX_CONCURRENT: int(1, 1000).default(2),
  PRECISION_PER_IP_PER_HOUR: int(1).default(10),
  TRAFFIC_BUDGET_GB: positiveNumber.default(100),
  CORS_ORIGINS: corsOrigins,
});

export type Env = z.output<typeof envSchema>;
/** What callers may pass: the same names, as strings (like process.env) or already typed values. */
export type EnvInput = Partial<Record<keyof Env, string | number | boolean | undefined>>;

const HELP: Partial<Record<keyof Env, string>> = {
  DATABASE_URL: "unset it for the embedded database, or give a postgres:// URL",
  ADMIN_TOKEN: "unset it to have one generated into $DATA_DIR/admin-token",
};

/** Thrown when the environment holds a bad value; `message` names every bad variable. */
export class EnvError extends Error {
  override name = "EnvError";
  constructor(readonly problems: string[]) {
    super(`viper-store: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Parses the store's variables out of `source` (default `process.env`); throws EnvError. */
export function parseEnv(source: Record<string, string | number | boolean | undefined> = process.env): Env {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined) picked[key] = String(value);
  }
  const result = envSchema.safeParse(picked);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const hint = HELP[name as keyof Env];
      return `${name}=${JSON.stringify(picked[name] ?? "")}: ${issue.message}${hint ? ` (${hint})` : ""}`;
    });
    throw new EnvError(problems);
  }
  return result.data;
}
