/**
 * viper-store merge benchmark (`pnpm --filter @viper/viper-store bench`).
 * 1. 10,000-node snapshot: first push and unchanged re-push, server-side merge time, against
 *    the floor = one bulk INSERT … ON CONFLICT DO UPDATE of the same rows into `nodes`, same
 *    client, one transaction, same run. PGlite (on disk, the default) and Postgres (DATABASE_URL_TEST).
 * 2. 50,000-node snapshot (~30 MB) over HTTP to a store in a child process: accepted within the
 *    default MAX_BODY_BYTES; peak RSS growth of that process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { normalizePayload, type Payload, signRequest } from "@viper/protocol";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { type Database, openDatabase } from "../src/db/client.js";
import { mergeDelivery } from "../src/services/merge-delivery.js";
import { syntheticNodes } from "./synthetic.js";

const N = 10_000;
const RUNS = 3;
const here = dirname(fileURLToPath(import.meta.url));

function payloadOf(count: number): Payload {
  const result = normalizePayload({
    event_type: "nodes_snapshot",
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    source: "spiderflow",
    nodes: syntheticNodes(count),
  });
  if (!result.ok) throw new Error("synthetic payload does not normalise");
  return result.payload;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function floor(database: Database, payload: Payload): Promise<number> {
  const rows = payload.nodes.map((n) => ({ ...n, observed_at: n.tested_at }));
  const json = JSON.stringify(rows);
  const ts = payload.timestamp;
  const started = performance.now();
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into nodes (id, node_key, url, name, protocol, host, port, country, legacy_score, status,
        first_seen_at, last_seen_at, owner_source, latency, speed, availability, observed_at, metrics_source, updated_at)
      select id, node_key, url, name, protocol, host, port, country, legacy_score, 'active', ${ts}::timestamptz,
        ${ts}::timestamptz, 'spiderflow', latency, speed, availability, observed_at, 'spiderflow', now()
      from jsonb_to_recordset(${json}::jsonb) as x(id text, node_key text, url text, name text, protocol text,
        host text, port int, country text, legacy_score float8, latency float8, speed float8, availability float8,
        observed_at timestamptz)
      order by id
      on conflict (id) do update set node_key = excluded.node_key, url = excluded.url, name = excluded.name,
        protocol = excluded.protocol, host = excluded.host, port = excluded.port, country = excluded.country,
        legacy_score = excluded.legacy_score, last_seen_at = excluded.last_seen_at, latency = excluded.latency,
        speed = excluded.speed, availability = excluded.availability, observed_at = excluded.observed_at,
        updated_at = excluded.updated_at`);
  });
  return performance.now() - started;
}

async function reset(database: Database) {
  await database.db.execute(
    sql`truncate nodes, node_current, node_measurements, deliveries, sync_state cascade`,
  );
}

async function benchDriver(name: string, database: Database) {
  await database.migrate();
  const payload = payloadOf(N);
  const floors: number[] = [];
  const floorsConflict: number[] = [];
  const firsts: number[] = [];
  const unchanged: number[] = [];
  // Warm-up (JIT, caches), not counted.
  await floor(database, payload);
  await reset(database);
  for (let run = 0; run < RUNS; run++) {
    await reset(database);
    floors.push(await floor(database, payload));
    floorsConflict.push(await floor(database, payload));
    await reset(database);
    const first = await mergeDelivery(database.db, {
      deliveryId: `bench-first-${run}`,
      mechanism: "webhook",
      payload,
      receivedAt: new Date(),
    });
    if (first.status !== "success" || first.inserted !== N)
      throw new Error(`first push: ${JSON.stringify(first)}`);
    firsts.push(first.duration_ms);
    const again = await mergeDelivery(database.db, {
      deliveryId: `bench-again-${run}`,
      mechanism: "webhook",
      payload,
      receivedAt: new Date(),
    });
    if (again.status !== "success" || again.unchanged !== N)
      throw new Error(`re-push: ${JSON.stringify(again)}`);
    unchanged.push(again.duration_ms);
  }
  const f = median(floors);
  const line = (label: string, ms: number, target: number) =>
    `  ${label.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / f).toFixed(2)}× floor  (target ≤ ${target}×) ${ms / f <= target ? "OK" : "MISSED"}`;
  console.log(`\n${name}: ${N.toLocaleString("en")} nodes, median of ${RUNS}`);
  console.log(`  ${"floor (bulk upsert into empty nodes)".padEnd(34)} ${f.toFixed(1).padStart(8)} ms`);
  console.log(
    `  ${"floor (same upsert, rows present)".padEnd(34)} ${median(floorsConflict).toFixed(1).padStart(8)} ms`,
  );
  console.log(line("merge, first push", median(firsts), 3));
  console.log(line("merge, unchanged re-push", median(unchanged), 1));
}

async function bigBody(label: string, databaseUrl: string) {
  const count = 50_000;
  const body = Buffer.from(
    JSON.stringify({
      event_type: "nodes_snapshot",
      timestamp: new Date(Date.now() - 60_000).toISOString(),
      source: "spiderflow",
      nodes: syntheticNodes(count, { padding: 200 }),
    }),
  );
  const secret = "whsec_" + Buffer.alloc(32, 3).toString("base64");
  const dataDir = mkdtempSync(join(tmpdir(), "viper-bench-"));
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    WEBHOOK_SECRET: secret,
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: "bench-admin-token-0123456789",
  };
  const server = () =>
    spawn(process.execPath, ["--import", "tsx", join(here, "rss-server.ts")], {
      env,
      stdio: ["pipe", "pipe", "inherit"],
    });
  // First start creates the PGlite data dir (initdb: ~900 MB RSS on its own) or runs the
  // migrations; measure a restart, the steady state of a running store.
  const init = server();
  await new Promise<void>((resolve, reject) => {
    init.stdout!.once("data", () => resolve());
    init.once("exit", (code) => reject(new Error(`benchmark store exited with ${code} before it was ready`)));
  });
  init.kill("SIGTERM");
  await new Promise((r) => init.once("exit", r));
  const child = server();
  const lines: string[] = [];
  let buffered = "";
  const waiters: ((l: string) => void)[] = [];
  child.stdout!.on("data", (c: Buffer) => {
    buffered += c.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const l = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const nextLine = () => new Promise<string>((r) => (lines.length ? r(lines.shift()!) : waiters.push(r)));
  try {
    const ready = JSON.parse(await nextLine()) as { url: string; rss: number };
    const started = performance.now();
    const res = await fetch(`${ready.url}/webhook/nodes-update`, {
      method: "POST",
      headers: { ...signRequest({ body, secrets: secret }), "content-type": "application/json" },
      body,
    });
    const reply = (await res.json()) as { inserted?: number };
    const merge = res.headers.get("server-timing") ?? "";
    const elapsed = performance.now() - started;
    child.stdin!.write("report\n");
    const peak = JSON.parse(await nextLine()) as { peak: number };
    const growth = (peak.peak - ready.rss) / 1e6;
    console.log(`\n50,000-node snapshot over HTTP (${label}, default MAX_BODY_BYTES)`);
    console.log(
      `  body ${(body.length / 1e6).toFixed(1)} MB → HTTP ${res.status}, inserted ${reply.inserted}, ${elapsed.toFixed(0)} ms end to end (${merge})`,
    );
    console.log(
      `  RSS after restart ${(ready.rss / 1e6).toFixed(0)} MB, peak ${(peak.peak / 1e6).toFixed(0)} MB, growth ${growth.toFixed(0)} MB (target ≤ 400 MB) ${growth <= 400 && res.status === 200 ? "OK" : "MISSED"}`,
    );
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const only = process.argv[2];
  if (!only || only === "merge") {
    const dir = mkdtempSync(join(tmpdir(), "viper-bench-pglite-"));
    const pglite = await openDatabase(undefined, dir);
    try {
      await benchDriver("PGlite (on disk)", pglite);
    } finally {
      await pglite.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const admin = process.env.DATABASE_URL_TEST;
    if (admin) {
      const name = `viper_bench_${process.pid}`;
      const c = postgres(admin, { max: 1, onnotice: () => {} });
      await c.unsafe(`create database "${name}"`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      const pg = await openDatabase(url.toString(), dir);
      try {
        await benchDriver("PostgreSQL (postgres.js)", pg);
      } finally {
        await pg.close();
        await c.unsafe(`drop database if exists "${name}" with (force)`);
        await c.end();
      }
    } else {
      console.log("\nPostgreSQL: skipped (set DATABASE_URL_TEST)");
    }
  }
  if (!only || only === "big") {
    await bigBody("PGlite on disk", "");
    const admin = process.env.DATABASE_URL_TEST;
    if (admin) {
      const name = `viper_bench_big_${process.pid}`;
      const c = postgres(admin, { max: 1, onnotice: () => {} });
      await c.unsafe(`create database "${name}"`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      try {
        await bigBody("PostgreSQL", url.toString());
      } finally {
        await c.unsafe(`drop database if exists "${name}" with (force)`);
        await c.end();
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
