import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { parseSecrets } from "@viper/protocol";
import type { Hono } from "hono";
import { createApp } from "./app.js";
import { type Database, type Db, openDatabase } from "./db/client.js";
import { type Env, type EnvInput, parseEnv } from "./env.js";
import { DataSyncScheduler } from "./services/data-sync-scheduler.js";
import { feedUrlFrom } from "./services/feed-poller.js";
import { newInstanceId } from "./services/instance-id.js";
import { Janitor } from "./services/janitor.js";
import { ProbeConfigError, probeConfigFromEnv } from "./services/node-checks.js";
import { PrecisionConfigError, PrecisionRuns, precisionConfigFromEnv } from "./services/precision-test.js";
import { type ProbeScheduleOptions, startProbeScheduler } from "./services/probe-scheduler.js";
import { sharedTicks } from "./services/probe-ticks.js";
import { adminTokenFile, webhookSecretFile } from "./services/secret-files.js";

/** The store cannot start as configured; `message` says what to change. */
export class StartupError extends Error {
  override name = "StartupError";
}

export type StartStoreOptions = EnvInput & {
  /** Where log lines go (default stderr). */
  log?: (message: string) => void;
  /** Scheduled re-checks (PROBE_STALE_AFTER > 0): tick length, batch size, concurrency. Tests shorten the tick. */
  probeSchedule?: ProbeScheduleOptions;
  /** Poller and janitor timings (tests shorten them): backoff base, poll timeout, janitor tick. */
  syncJobs?: { pollBackoffBaseMs?: number; pollTimeoutMs?: number; janitorIntervalMs?: number };
};

export interface RunningStore {
  /** Base URL, e.g. http://127.0.0.1:8002 (the real port when PORT=0). */
  url: string;
  app: Hono;
  db: Db;
  database: Database;
  env: Env;
  webhookSecret: string;
  adminToken: string;
  /** Stops accepting, waits for in-flight deliveries, closes the database. Idempotent. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Starts a complete store: env validation, database + migrations, secrets, HTTP server.
 * Only the variables given are used (the process environment is not read here), so tests
 * can run isolated stores on loopback with `PORT: 0`.
 */
export async function startStore(options: StartStoreOptions = {}): Promise<RunningStore> {
  const { log: logOption, probeSchedule, syncJobs, ...variables } = options;
  const log = logOption ?? ((m: string) => process.stderr.write(`${m}\n`));
  const env = parseEnv(variables);
  const embedded = !env.DATABASE_URL || env.DATABASE_URL === "pglite:memory";

  const webhookSecret = env.WEBHOOK_SECRET ?? generatedOrRefuse(embedded, "WEBHOOK_SECRET", env, log);
  parseSecrets(webhookSecret, { variable: "WEBHOOK_SECRET" });
  if (env.PROBER_SECRETS) parseSecrets(env.PROBER_SECRETS, { variable: "PROBER_SECRETS" });
  const adminToken = env.ADMIN_TOKEN ?? generatedOrRefuse(embedded, "ADMIN_TOKEN", env, log);
  const probe = probeConfigOrRefuse(env, log);
  const precision = { ...precisionConfigOrRefuse(env, probe.v2rayBin), runs: new PrecisionRuns() };

  const database = await openDatabase(env.DATABASE_URL, env.DATA_DIR);
  try {
    await database.migrate();
  } catch (err) {
    await database.close().catch(() => {});
    throw new StartupError(
      `viper-store: cannot prepare the database at ${database.location}: ${(err as Error).message}`,
    );
  }

  const inflight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inflight.add(work);
    work.then(
      () => inflight.delete(work),
      () => inflight.delete(work),
    );
    return work;
  };
  const replicaId = newInstanceId();
  const poller = new DataSyncScheduler({
    db: database.db,
    feedUrl: feedUrlFrom(env),
    intervalS: env.POLL_INTERVAL,
    secrets: webhookSecret,
    toleranceS: env.WEBHOOK_TOLERANCE_S,
    maxBodyBytes: env.MAX_BODY_BYTES,
    instanceId: replicaId,
    log,
    ...(syncJobs?.pollTimeoutMs ? { timeoutMs: syncJobs.pollTimeoutMs } : {}),
    ...(syncJobs?.pollBackoffBaseMs ? { backoffBaseMs: syncJobs.pollBackoffBaseMs } : {}),
  });
  const janitor = new Janitor({
    db: database.db,
    rules: { stalePurgeDays: env.STALE_PURGE_DAYS, historyRetentionDays: env.HISTORY_RETENTION_DAYS },
    instanceId: replicaId,
    log,
    ...(syncJobs?.janitorIntervalMs ? { intervalMs: syncJobs.janitorIntervalMs } : {}),
  });
  const app = createApp({
    sync: { poller, adminToken },
    trafficBudgetGb: env.TRAFFIC_BUDGET_GB,
    db: database.db,
    ingest: {
      secrets: webhookSecret,
      proberSecrets: env.PROBER_SECRETS,
      toleranceS: env.WEBHOOK_TOLERANCE_S,
      acceptLegacy: env.ACCEPT_LEGACY_SIGNATURES,
    },
    maxBodyBytes: env.MAX_BODY_BYTES,
    corsOrigins: env.CORS_ORIGINS,
    track,
    log,
    probe: { ...probe, perIpPerMinute: env.PROBE_PER_IP_PER_MINUTE },
    precision,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(s)) as Server;
    s.once("error", (err) =>
      reject(new StartupError(`viper-store: cannot listen on ${env.HOST}:${env.PORT}: ${err.message}`)),
    );
  }).catch(async (err) => {
    await database.close().catch(() => {});
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const host = env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
  const url = `http://${host}:${port}`;
  log(`viper-store: listening on ${url} (database: ${database.driver} ${database.location})`);
  const probeScheduler =
    env.PROBE_STALE_AFTER > 0
      ? startProbeScheduler({
          db: database.db,
          probe,
          staleAfterS: env.PROBE_STALE_AFTER,
          ticks: sharedTicks(database.db, replicaId),
          log,
          ...(probeSchedule ? { schedule: probeSchedule } : {}),
        })
      : undefined;

  poller.start();
  janitor.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await probeScheduler?.stop();
      // A running precision test (an open SSE stream above all) would hold server.close() until its time cap.
      precision.runs.abortAll("the store is shutting down");
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
      server.closeIdleConnections();
      // ...and so would sockets that turn idle while we wait (a keep-alive client after its request
      // or SSE stream ended keeps the socket open for seconds): close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      // Jobs stop after the listener closes (no new requests) and before the database does.
      await Promise.all([poller.stop(), janitor.stop()]);
      await Promise.allSettled([...inflight]);
      await stopped;
      clearInterval(sweep);
      clearTimeout(force);
      await database.close();
    })();
    return closing;
  };
  return { url, app, db: database.db, database, env, webhookSecret, adminToken, close };
}

function precisionConfigOrRefuse(env: Env, v2rayBin: string | null | undefined) {
  try {
    return precisionConfigFromEnv(env, v2rayBin);
  } catch (err) {
    if (err instanceof PrecisionConfigError) throw new StartupError(err.message);
    throw err;
  }
}

function probeConfigOrRefuse(env: Env, log: (m: string) => void) {
  try {
    return probeConfigFromEnv(env, log);
  } catch (err) {
    if (err instanceof ProbeConfigError) throw new StartupError(err.message);
    throw err;
  }
}

function generatedOrRefuse(
  embedded: boolean,
  name: "WEBHOOK_SECRET" | "ADMIN_TOKEN",
  env: Env,
  log: (m: string) => void,
) {
  if (!embedded) {
    throw new StartupError(
      `viper-store: ${name} is not set. With DATABASE_URL=postgres://… the store does not generate it ` +
        `(several replicas must share one value): set ${name} in the environment` +
        (name === "WEBHOOK_SECRET"
          ? " (e.g. whsec_ + 32 random bytes in base64, the hunter needs the same value)."
          : " (at least 16 characters)."),
    );
  }
  const file = name === "WEBHOOK_SECRET" ? webhookSecretFile(env.DATA_DIR) : adminTokenFile(env.DATA_DIR);
  log(`viper-store: ${name} not set; ${file.created ? "generated" : "using"} ${file.path} (mode 0600)`);
  return file.value;
}
