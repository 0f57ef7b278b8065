import { and, asc, count, eq, gte, inArray, lte, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { queryRows, toIso } from "./client.js";
import { nodes } from "./schema.js";

export type SortField = "speed" | "latency" | "availability" | "last_seen_at";

export interface NodeFilter {
  countries?: string[];
  protocols?: string[];
  minSpeed?: number;
  maxLatency?: number;
  minAvailability?: number;
  status: "active" | "stale" | "all";
  q?: string;
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

function whereOf(f: NodeFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    f.status === "all" ? undefined : eq(nodes.status, f.status),
    f.countries ? inArray(nodes.country, f.countries) : undefined,
    f.protocols ? inArray(nodes.protocol, f.protocols) : undefined,
    f.minSpeed !== undefined ? gte(nodes.speed, f.minSpeed) : undefined,
    f.maxLatency !== undefined ? lte(nodes.latency, f.maxLatency) : undefined,
    f.minAvailability !== undefined ? gte(nodes.availability, f.minAvailability) : undefined,
    // strpos, not LIKE: the user's text is matched literally (no % or _ wildcards).
    f.q !== undefined ? sql`strpos(lower(${nodes.name}), lower(${f.q})) > 0` : undefined,
  ];
  return and(...conditions);
}

/** Nulls always last; `id` breaks every tie so that pages never overlap. */
function orderOf(o: NodeOrder): SQL[] {
  if (!o.sort)
    return [sql`${nodes.speed} desc nulls last`, sql`${nodes.latency} asc nulls last`, asc(nodes.id)];
  const column = SORT_COLUMNS[o.sort.field];
  return [o.sort.descending ? sql`${column} desc nulls last` : sql`${column} asc nulls last`, asc(nodes.id)];
}

export async function listNodes(db: Db, filter: NodeFilter, order: NodeOrder) {
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
