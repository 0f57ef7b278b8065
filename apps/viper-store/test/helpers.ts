import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { signLegacyRequest, signRequest } from "@viper/protocol";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { queryRows, toNumber } from "../src/db/client.js";
import { type RunningStore, type StartStoreOptions, startStore } from "../src/store.js";

/** A fixed test secret (never used outside tests). */
export const SECRET = "whsec_" + Buffer.alloc(32, 7).toString("base64");
export const PROBER_SECRET = "whsec_" + Buffer.alloc(32, 9).toString("base64");

export interface TestDriver {
  name: "pglite" | "postgres";
}

/** PGlite always; real Postgres when DATABASE_URL_TEST is set (CI). */
export const drivers: TestDriver[] = [
  { name: "pglite" },
  ...(process.env.DATABASE_URL_TEST ? [{ name: "postgres" as const }] : []),
];
export const hasPostgres = Boolean(process.env.DATABASE_URL_TEST);

/** A fresh database on the test cluster, dropped afterwards. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.DATABASE_URL_TEST!;
  const name = `viper_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const client = postgres(admin, { max: 1, onnotice: () => {} });
  await client.unsafe(`create database "${name}"`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = postgres(admin, { max: 1, onnotice: () => {} });
      await c.unsafe(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

export interface TestStore extends RunningStore {
  stop(): Promise<void>;
}

/** A real store on loopback (port 0) on the given driver, with a temporary DATA_DIR. */
export async function startTestStore(
  driver: TestDriver,
  overrides: StartStoreOptions = {},
): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), "viper-store-test-"));
  const pg = driver.name === "postgres" ? await freshPostgresDatabase() : undefined;
  const store = await startStore({
    PORT: 0,
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    DATABASE_URL: pg?.url ?? "pglite:memory",
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: "test-admin-token-0123456789",
    // No scheduled re-checks unless a test asks: they would add measurements of synthetic nodes.
    PROBE_STALE_AFTER: 0,
    log: () => {},
    ...overrides,
  });
  return {
    ...store,
    stop: async () => {
      await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface PushOptions {
  id?: string;
  secret?: string;
  /** Unix seconds of the signature. */
  timestamp?: number;
  gzip?: boolean;
  contentType?: string | null;
  headers?: Record<string, string>;
  unsigned?: boolean;
  legacy?: { timestamp: string };
  path?: string;
}

export interface PushResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
  headers: Headers;
}

/** Sends a (signed) POST to the store exactly as a sender would. */
export async function push(
  store: { url: string },
  payload: unknown,
  opts: PushOptions = {},
): Promise<PushResult> {
  let bytes: Uint8Array =
    payload instanceof Uint8Array
      ? payload
      : Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
  if (opts.gzip) bytes = gzipSync(bytes);
  const headers: Record<string, string> = {};
  if (opts.contentType !== null) headers["content-type"] = opts.contentType ?? "application/json";
  if (opts.gzip) headers["content-encoding"] = "gzip";
  if (opts.legacy) {
    Object.assign(
      headers,
      signLegacyRequest({ body: bytes, secrets: opts.secret ?? SECRET, timestamp: opts.legacy.timestamp }),
    );
  } else if (!opts.unsigned) {
    Object.assign(
      headers,
      signRequest({ body: bytes, secrets: opts.secret ?? SECRET, id: opts.id, timestamp: opts.timestamp }),
    );
  }
  Object.assign(headers, opts.headers ?? {});
  const res = await fetch(store.url + (opts.path ?? "/webhook/nodes-update"), {
    method: "POST",
    headers,
    body: bytes,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

export async function getJson(store: { url: string }, path: string): Promise<PushResult> {
  const res = await fetch(store.url + path);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Row counts of every table a delivery can write. */
export async function tableCounts(store: RunningStore): Promise<Record<string, number>> {
  const rows = await queryRows<Record<string, unknown>>(
    store.db,
    sql`select (select count(*) from nodes) as nodes, (select count(*) from node_current) as node_current,
      (select count(*) from node_measurements) as node_measurements, (select count(*) from deliveries) as deliveries`,
  );
  const r = rows[0] ?? {};
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toNumber(v) ?? -1]));
}

export async function resetTables(store: RunningStore): Promise<void> {
  await store.db.execute(
    sql`truncate nodes, node_current, node_measurements, deliveries, sync_state cascade`,
  );
}

/** A synthetic trojan node in the documentation ranges. */
export function synthNode(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const nets = ["192.0.2", "198.51.100", "203.0.113"];
  const host = `${nets[i % 3]}.${(Math.floor(i / 3) % 254) + 1}`;
  return {
    url: `trojan://pass-${i}@${host}:${1000 + (i % 60000)}?sni=n${i}.example#node-${i}`,
    name: `node-${i}`,
    country: ["SG", "JP", "US", "DE"][i % 4],
    latency: 20 + (i % 200),
    speed: Math.round(((i * 37) % 1000) / 10) / 1,
    availability: 50 + (i % 51),
    ...extra,
  };
}

/** ISO time `minutesAgo` minutes before now (payload timestamps must not lie in the future). */
export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function envelope(nodes: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_type: "nodes_updated", timestamp: minutesAgo(60), source: "spiderflow", nodes, ...extra };
}

/** The real hunter snapshots (FIXTURES_DIR, else <repo>/../shared/fixtures), oldest first; none when absent. */
export function fixtureSnapshots(): { dir: string; files: string[] } {
  const root =
    process.env.FIXTURES_DIR ?? join(import.meta.dirname, "..", "..", "..", "..", "shared", "fixtures");
  const dir = join(root, "spiderflow-snapshots");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()
    : [];
  return { dir, files };
}
