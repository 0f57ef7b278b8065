import { and, asc, desc, eq, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { queryRows, toIso, toNumber } from "./client.js";
import type { NodeRow } from "./node-queries.js";
import { nodes } from "./schema.js";

export interface Distribution {
  avg: number | null;
  p50: number | null;
  p90: number | null;
}

export interface SummaryRow {
  active: number;
  stale: number;
  byCountry: Record<string, number>;
  byProtocol: Record<string, number>;
  latency: Distribution;
  speed: Distribution;
  availability: Distribution;
  lastWebhookAt: string | null;
  lastPollAt: string | null;
}

/** The key of nodes whose country is unknown in `by_country` (codes are upper case, so it cannot clash). */
export const UNKNOWN_COUNTRY = "unknown";

const ACTIVE = sql.raw("filter (where status = 'active')");

/** avg/p50/p90 of one metric over active nodes; aggregates skip nulls, so nodes without it do not count. */
function distributionOf(column: "latency" | "speed" | "availability"): SQL {
  const c = sql.raw(`"${column}"`);
  return sql`avg(${c}) ${ACTIVE} as ${sql.raw(`${column}_avg`)},
    percentile_cont(0.5) within group (order by ${c}) ${ACTIVE} as ${sql.raw(`${column}_p50`)},
    percentile_cont(0.9) within group (order by ${c}) ${ACTIVE} as ${sql.raw(`${column}_p90`)}`;
}

function distribution(row: Record<string, unknown>, column: string): Distribution {
  return {
    avg: toNumber(row[`${column}_avg`]),
    p50: toNumber(row[`${column}_p50`]),
    p90: toNumber(row[`${column}_p90`]),
  };
}

function countsOf(rows: { k: unknown; n: unknown }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.k === null ? UNKNOWN_COUNTRY : String(r.k)] = toNumber(r.n) ?? 0;
  return out;
}

/**
 * Everything of `GET /api/stats/summary` in four statements. Counts and percentiles come back as
 * strings from postgres.js and as numbers from PGlite: all go through `toNumber`.
 */
export async function statsSummary(db: Db): Promise<SummaryRow> {
  const [metrics, countries, protocols, times] = await Promise.all([
    queryRows<Record<string, unknown>>(
      db,
      sql`select count(*) ${ACTIVE} as active, count(*) filter (where status = 'stale') as stale,
        ${distributionOf("latency")}, ${distributionOf("speed")}, ${distributionOf("availability")}
        from nodes`,
    ),
    queryRows<{ k: unknown; n: unknown }>(
      db,
      sql`select country as k, count(*) as n from nodes where status = 'active' group by country`,
    ),
    queryRows<{ k: unknown; n: unknown }>(
      db,
      sql`select protocol as k, count(*) as n from nodes where status = 'active' group by protocol`,
    ),
    queryRows<{ webhook: unknown; poll: unknown }>(
      db,
      sql`select max(received_at) filter (where mechanism = 'webhook') as webhook,
        max(received_at) filter (where mechanism = 'poll') as poll from deliveries`,
    ),
  ]);
  const m = metrics[0] ?? {};
  return {
    active: toNumber(m.active) ?? 0,
    stale: toNumber(m.stale) ?? 0,
    byCountry: countsOf(countries),
    byProtocol: countsOf(protocols),
    latency: distribution(m, "latency"),
    speed: distribution(m, "speed"),
    availability: distribution(m, "availability"),
    lastWebhookAt: toIso(times[0]?.webhook),
    lastPollAt: toIso(times[0]?.poll),
  };
}

export type TopMetric = "speed" | "latency" | "availability";

export interface TopNodesQuery {
  metric: TopMetric;
  limit: number;
  countries?: string[];
  protocols?: string[];
}

const METRIC_COLUMNS = {
  speed: nodes.speed,
  latency: nodes.latency,
  availability: nodes.availability,
} as const;

/** Active nodes that have the metric, best first (lowest latency; highest speed/availability); `id` breaks ties. */
export async function topNodes(db: Db, q: TopNodesQuery): Promise<NodeRow[]> {
  const column = METRIC_COLUMNS[q.metric];
  return db
    .select()
    .from(nodes)
    .where(
      and(
        eq(nodes.status, "active"),
        isNotNull(column),
        q.countries ? inArray(nodes.country, q.countries) : undefined,
        q.protocols ? inArray(nodes.protocol, q.protocols) : undefined,
      ),
    )
    .orderBy(q.metric === "latency" ? asc(column) : desc(column), asc(nodes.id))
    .limit(q.limit);
}
