import { and, asc, type Column, count, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { queryRows, toIso } from "./client.js";
import { nodeCurrent, nodes } from "./schema.js";

export type SortField = "speed" | "latency" | "availability" | "last_seen_at";

export interface NodeFilter {
  countries?: string[];
  protocols?: string[];
  minSpeed?: number;
  maxLatency?: number;
  minAvailability?: number;
  status: "active" | "stale" | "all";
  q?: string;
  /** Only nodes measured from this region; metrics, filters and sort from that region's current values. */
  region?: string;
}

export interface NodeOrder {
  /** null = the default order: -speed, then latency. */
  sort: { field: SortField; descending: boolean } | null;
  limit: number;
  offset: number;
}

export type NodeRow = typeof nodes.$inferSelect;

const SORT_COLUMNS = {
  speed: nodes.speed,
  latency: nodes.latency,
  availability: nodes.availability,
  last_seen_at: nodes.lastSeenAt,
} as const;

/** The metric columns filters and sorts read: the node view's, or one region's (`?region=`). */
interface MetricColumns {
  speed: Column | SQL.Aliased;
  latency: Column | SQL.Aliased;
  availability: Column | SQL.Aliased;
}
const VIEW_METRICS: MetricColumns = {
  speed: nodes.speed,
  latency: nodes.latency,
  availability: nodes.availability,
};

function whereOf(f: NodeFilter, m: MetricColumns = VIEW_METRICS): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    f.status === "all" ? undefined : eq(nodes.status, f.status),
    f.countries ? inArray(nodes.country, f.countries) : undefined,
    f.protocols ? inArray(nodes.protocol, f.protocols) : undefined,
    f.minSpeed !== undefined ? sql`${m.speed} >= ${f.minSpeed}` : undefined,
    f.maxLatency !== undefined ? sql`${m.latency} <= ${f.maxLatency}` : undefined,
    f.minAvailability !== undefined ? sql`${m.availability} >= ${f.minAvailability}` : undefined,
    // strpos, not LIKE: the user's text is matched literally (no % or _ wildcards).
    f.q !== undefined ? sql`strpos(lower(${nodes.name}), lower(${f.q})) > 0` : undefined,
  ];
  return and(...conditions);
}

/** Nulls always last; `id` breaks every tie so that pages never overlap. */
function orderOf(o: NodeOrder, m: MetricColumns = VIEW_METRICS): SQL[] {
  if (!o.sort) return [sql`${m.speed} desc nulls last`, sql`${m.latency} asc nulls last`, asc(nodes.id)];
  const column = o.sort.field === "last_seen_at" ? SORT_COLUMNS.last_seen_at : m[o.sort.field];
  return [o.sort.descending ? sql`${column} desc nulls last` : sql`${column} asc nulls last`, asc(nodes.id)];
}

export async function listNodes(db: Db, filter: NodeFilter, order: NodeOrder) {
  if (filter.region !== undefined) return listNodesOfRegion(db, filter, order, filter.region);
  const where = whereOf(filter);
  const [rows, totals, updated] = await Promise.all([
    db
      .select()
      .from(nodes)
      .where(where)
      .orderBy(...orderOf(order))
      .limit(order.limit)
      .offset(order.offset),
    db.select({ n: count() }).from(nodes).where(where),
    queryRows<{ at: unknown }>(db, sql`select max(updated_at) as at from nodes`),
  ]);
  return { rows, total: Number(totals[0]?.n ?? 0), lastUpdated: toIso(updated[0]?.at) };
}

export async function getNodeRow(db: Db, id: string): Promise<NodeRow | null> {
  const rows = await db.select().from(nodes).where(eq(nodes.id, id)).limit(1);
  return rows[0] ?? null;
}

/** Newest non-null value of a metric over the region's (source) rows, as the node view does overall. */
function newestOf(column: Column) {
  return sql<
    number | null
  >`(array_agg(${column} order by ${nodeCurrent.observedAt} desc, ${nodeCurrent.source}) filter (where ${column} is not null))[1]`;
}

/**
 * `?region=`: only nodes with a current measurement from that region, their metrics (and the
 * filters and sort on them) taken from that region's `node_current` rows alone.
 */
async function listNodesOfRegion(db: Db, filter: NodeFilter, order: NodeOrder, region: string) {
  const rv = db
    .select({
      nodeId: nodeCurrent.nodeId,
      latency: newestOf(nodeCurrent.latency).as("region_latency"),
      speed: newestOf(nodeCurrent.speed).as("region_speed"),
      availability: newestOf(nodeCurrent.availability).as("region_availability"),
      observedAt: sql`max(${nodeCurrent.observedAt})`
        .mapWith(nodeCurrent.observedAt)
        .as("region_observed_at"),
      source:
        sql<string>`(array_agg(${nodeCurrent.source} order by ${nodeCurrent.observedAt} desc, ${nodeCurrent.source}))[1]`.as(
          "region_source",
        ),
    })
    .from(nodeCurrent)
    .where(eq(nodeCurrent.region, region))
    .groupBy(nodeCurrent.nodeId)
    .as("rv");
  const metrics: MetricColumns = { speed: rv.speed, latency: rv.latency, availability: rv.availability };
  const where = whereOf(filter, metrics);
  const [rows, totals, updated] = await Promise.all([
    db
      .select({
        ...getTableColumns(nodes),
        latency: rv.latency,
        speed: rv.speed,
        availability: rv.availability,
        observedAt: rv.observedAt,
        metricsSource: rv.source,
      })
      .from(nodes)
      .innerJoin(rv, eq(rv.nodeId, nodes.id))
      .where(where)
      .orderBy(...orderOf(order, metrics))
      .limit(order.limit)
      .offset(order.offset),
    db.select({ n: count() }).from(nodes).innerJoin(rv, eq(rv.nodeId, nodes.id)).where(where),
    queryRows<{ at: unknown }>(db, sql`select max(updated_at) as at from nodes`),
  ]);
  return {
    rows: rows as NodeRow[],
    total: Number(totals[0]?.n ?? 0),
    lastUpdated: toIso(updated[0]?.at),
  };
}
