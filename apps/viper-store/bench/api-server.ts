/**
 * Child process of bench/api.ts: a store on loopback, plus a few commands on stdin (one JSON line
 * each) that the benchmark needs from inside the process that owns the database:
 * `peak` (peak RSS since the last `reset-peak`), `reset-peak`, `explain` (EXPLAIN ANALYZE of the
 * list query) and `drop-indexes` (the nodes indexes other than the primary key; scratch data only).
 */
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { queryRows } from "../src/db/client.js";
import { startStore } from "../src/store.js";

const store = await startStore({
  PROBE_STALE_AFTER: 0,
  POLL_INTERVAL: 0,
  ...process.env,
  PORT: 0,
  log: () => {},
});
let peak = process.memoryUsage.rss();
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 5);

/** The statement `GET /api/nodes?country=SG,JP&max_latency=120` runs (default order, limit 100). */
const LIST_QUERY = `select * from nodes where status = 'active' and country in ('SG', 'JP') and latency <= 120
  order by speed desc nulls last, latency asc nulls last, id asc limit 100`;
const COUNT_QUERY = `select count(*) from nodes where status = 'active' and country in ('SG', 'JP') and latency <= 120`;

async function command(name: string): Promise<unknown> {
  if (name === "peak") return { peak: Math.max(peak, process.memoryUsage.rss()) };
  if (name === "reset-peak") {
    peak = process.memoryUsage.rss();
    return { rss: peak };
  }
  if (name === "explain") {
    const plan = async (query: string) =>
      (await queryRows<Record<string, unknown>>(store.db, sql.raw(`explain analyze ${query}`))).map((r) =>
        String(Object.values(r)[0]),
      );
    const executionTime = (lines: string[]) => lines.find((l) => l.startsWith("Execution Time")) ?? "?";
    return {
      plan: await plan(LIST_QUERY),
      // The list also counts the matches and reads last_updated: where the rest of the time goes.
      count: executionTime(await plan(COUNT_QUERY)),
      lastUpdated: executionTime(await plan("select max(updated_at) from nodes")),
    };
  }
  if (name === "drop-indexes") {
    const rows = await queryRows<{ name: string }>(
      store.db,
      sql`select indexname as name from pg_indexes where tablename = 'nodes' and indexname <> 'nodes_pkey'`,
    );
    for (const r of rows) await store.db.execute(sql.raw(`drop index "${r.name}"`));
    await store.db.execute(sql`analyze nodes`);
    return { dropped: rows.map((r) => r.name) };
  }
  if (name === "analyze") {
    await store.db.execute(sql`analyze nodes`);
    return { ok: true };
  }
  return { error: `unknown command ${name}` };
}

process.stdout.write(`${JSON.stringify({ url: store.url, rss: process.memoryUsage.rss() })}\n`);
createInterface({ input: process.stdin }).on("line", (line) => {
  command(line.trim()).then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (err: Error) => process.stdout.write(`${JSON.stringify({ error: err.message })}\n`),
  );
});
process.on("SIGTERM", () => {
  clearInterval(timer);
  store.close().then(() => process.exit(0));
});
