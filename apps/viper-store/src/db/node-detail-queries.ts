import { and, asc, desc, eq } from "drizzle-orm";
import type { Db } from "./client.js";
import { nodeCurrent, nodeMeasurements } from "./schema.js";

export type CurrentRow = typeof nodeCurrent.$inferSelect;
export type MeasurementRow = typeof nodeMeasurements.$inferSelect;

/** The node's current values, one row per (source, region), in a stable order. */
export async function currentRowsOf(db: Db, nodeId: string, region?: string): Promise<CurrentRow[]> {
  return db
    .select()
    .from(nodeCurrent)
    .where(
      and(eq(nodeCurrent.nodeId, nodeId), region === undefined ? undefined : eq(nodeCurrent.region, region)),
    )
    .orderBy(asc(nodeCurrent.source), asc(nodeCurrent.region));
}

/** The node's newest measurements first (`id` breaks ties of equal observation times). */
export async function historyRowsOf(
  db: Db,
  nodeId: string,
  limit: number,
  region?: string,
): Promise<MeasurementRow[]> {
  return db
    .select()
    .from(nodeMeasurements)
    .where(
      and(
        eq(nodeMeasurements.nodeId, nodeId),
        region === undefined ? undefined : eq(nodeMeasurements.region, region),
      ),
    )
    .orderBy(desc(nodeMeasurements.observedAt), desc(nodeMeasurements.id))
    .limit(limit);
}
