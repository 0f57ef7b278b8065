import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema.js";

/** The Drizzle database, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DriverName = "pglite" | "postgres";

export interface Database {
  db: Db;
  driver: DriverName;
  /** Human description for logs (never contains a password). */
  location: string;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the database named by DATABASE_URL: unset → embedded PGlite in `<dataDir>/pglite`,
 * `pglite:memory` → in-memory PGlite, `postgres://…` → postgres.js.
 */
export async function openDatabase(databaseUrl: string | undefined, dataDir: string): Promise<Database> {
  const migrationsFolder = findMigrationsFolder();
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    const client = postgres(databaseUrl, { max: 10, onnotice: () => {}, connect_timeout: 10 });
    const db = drizzlePostgres({ client, schema }) as unknown as Db;
    const safe = new URL(databaseUrl);
    safe.password = "";
    return {
      db,
      driver: "postgres",
      location: safe.toString(),
      migrate: async () => {
        await migratePostgres(db as unknown as Parameters<typeof migratePostgres>[0], { migrationsFolder });
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  let dir: string | undefined;
  if (databaseUrl !== "pglite:memory") {
    dir = join(dataDir, "pglite");
    mkdirSync(dir, { recursive: true });
  }
  const client = dir ? new PGlite(dir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    driver: "pglite",
    location: dir ?? "pglite:memory",
    migrate: async () => {
      await migratePglite(db as unknown as Parameters<typeof migratePglite>[0], { migrationsFolder });
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/**
 * The committed drizzle-kit output lives in `<package>/drizzle`. This file runs from
 * `src/db/` (tests, tsx) and from the bundled `dist/` (node dist/main.js), so walk up from
 * here to the first directory holding `drizzle/meta/_journal.json`.
 */
export function findMigrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "drizzle");
    if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error("viper-store: cannot find the migrations folder (drizzle/) above " + import.meta.url);
    }
    dir = parent;
  }
}

/** `execute()` returns an array on postgres.js and `{ rows }` on PGlite: give rows either way. */
export async function queryRows<T extends Record<string, unknown>>(db: Pick<Db, "execute">, query: SQL) {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** int8/numeric come back as numbers from PGlite and as strings from postgres.js. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Timestamps come back as Date (typed columns, postgres.js) or strings (some raw PGlite paths). */
export function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** True when the migrations table exists and holds every committed migration. */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const rows = await queryRows<{ n: unknown }>(
    db,
    sql`select count(*) as n from drizzle.__drizzle_migrations`,
  );
  const journal = JSON.parse(readFileSync(join(findMigrationsFolder(), "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return (toNumber(rows[0]?.n) ?? 0) >= journal.entries.length;
}
