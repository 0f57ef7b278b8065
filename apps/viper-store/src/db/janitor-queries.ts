import { sql } from "drizzle-orm";
import { type Db, queryRows } from "./client.js";

type Executor = Pick<Db, "execute">;

/**
 * Deletes stale nodes whose `stale_since` is before `cutoff`. Their current values and history
 * go with them (foreign keys cascade). Active nodes are never touched.
 */
export async function purgeStaleNodes(db: Executor, cutoff: Date): Promise<number> {
  const rows = await queryRows(
    db,
    sql`delete from nodes where status = 'stale' and stale_since < ${cutoff.toISOString()}::timestamptz returning id`,
  );
  return rows.length;
}

/** Deletes history rows observed before `cutoff`; current values (node_current) are kept. */
export async function purgeHistory(db: Executor, cutoff: Date): Promise<number> {
  const rows = await queryRows(
    db,
    sql`delete from node_measurements where observed_at < ${cutoff.toISOString()}::timestamptz returning 1 as x`,
  );
  return rows.length;
}
