import { and, asc, eq, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import type { NodeRow } from "./node-queries.js";
import { nodes } from "./schema.js";

/** Protocols no probe core here can test at all (v2ray 4.34): never due, they would only fill batches. */
const UNTESTABLE_PROTOCOLS = ["hysteria2", "tuic", "ssr"];

/**
 * A page of the active nodes due for a scheduled re-check: never measured, or not observed since
 * `staleBefore` (`observed_at` = the newest measurement of any source). Longest unobserved first,
 * `id` breaks ties, so pages of one tick do not overlap.
 */
export async function dueNodes(db: Db, staleBefore: Date, limit: number, offset = 0): Promise<NodeRow[]> {
  return db
    .select()
    .from(nodes)
    .where(
      and(
        eq(nodes.status, "active"),
        notInArray(nodes.protocol, UNTESTABLE_PROTOCOLS),
        or(isNull(nodes.observedAt), lt(nodes.observedAt, staleBefore)),
      ),
    )
    .orderBy(sql`${nodes.observedAt} asc nulls first`, asc(nodes.id))
    .limit(limit)
    .offset(offset);
}
