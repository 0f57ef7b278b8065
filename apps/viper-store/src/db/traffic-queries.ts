import { and, gte, lt, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { trafficLedger } from "./schema.js";

/** Mechanisms that move bytes, as booked in the ledger (DESIGN 5, `GET /api/stats/traffic`). */
export const TRAFFIC_MECHANISMS = ["webhook", "poll", "probe", "precision"] as const;
export type TrafficMechanism = (typeof TRAFFIC_MECHANISMS)[number];

export interface TrafficBooking {
  mechanism: TrafficMechanism;
  bytesIn: number;
  bytesOut: number;
  /** When the traffic happened; its UTC day is the ledger row. Default now. */
  at?: Date;
  /** How many requests/tests the bytes belong to. Default 1. */
  count?: number;
}

type Executor = Pick<Db, "insert">;

/** Adds bytes to the day's row of a mechanism (one atomic upsert; safe across replicas). */
export async function bookTraffic(db: Executor, booking: TrafficBooking): Promise<void> {
  const day = (booking.at ?? new Date()).toISOString().slice(0, 10);
  const bytesIn = Math.max(0, Math.round(booking.bytesIn));
  const bytesOut = Math.max(0, Math.round(booking.bytesOut));
  const count = booking.count ?? 1;
  await db
    .insert(trafficLedger)
    .values({ day, mechanism: booking.mechanism, bytesIn, bytesOut, count })
    .onConflictDoUpdate({
      target: [trafficLedger.day, trafficLedger.mechanism],
      set: {
        bytesIn: sql`${trafficLedger.bytesIn} + ${bytesIn}`,
        bytesOut: sql`${trafficLedger.bytesOut} + ${bytesOut}`,
        count: sql`${trafficLedger.count} + ${count}`,
      },
    });
}

export interface MechanismTraffic {
  bytes_in: number;
  bytes_out: number;
  count: number;
}

/** Totals per mechanism for the UTC month that contains `at` (every mechanism present, zeros included). */
export async function monthTraffic(
  db: Pick<Db, "select">,
  at: Date,
): Promise<Record<TrafficMechanism, MechanismTraffic>> {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  const rows = await db
    .select({
      mechanism: trafficLedger.mechanism,
      bytesIn: sql<string | number>`sum(${trafficLedger.bytesIn})`,
      bytesOut: sql<string | number>`sum(${trafficLedger.bytesOut})`,
      count: sql<string | number>`sum(${trafficLedger.count})`,
    })
    .from(trafficLedger)
    .where(
      and(
        gte(trafficLedger.day, start.toISOString().slice(0, 10)),
        lt(trafficLedger.day, end.toISOString().slice(0, 10)),
      ),
    )
    .groupBy(trafficLedger.mechanism);
  const out = Object.fromEntries(
    TRAFFIC_MECHANISMS.map((m) => [m, { bytes_in: 0, bytes_out: 0, count: 0 }]),
  ) as Record<TrafficMechanism, MechanismTraffic>;
  for (const r of rows) {
    if (!(TRAFFIC_MECHANISMS as readonly string[]).includes(r.mechanism)) continue;
    // Aggregates are numbers on PGlite and strings on postgres.js.
    out[r.mechanism as TrafficMechanism] = {
      bytes_in: Number(r.bytesIn),
      bytes_out: Number(r.bytesOut),
      count: Number(r.count),
    };
  }
  return out;
}
