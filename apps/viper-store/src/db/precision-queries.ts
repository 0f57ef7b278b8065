/**
 * Precision tests in the database. Every global limit (one running test per node, the per-IP
 * hourly allowance, PRECISION_MAX_CONCURRENT, the month's traffic budget) is checked and the test
 * reserved in ONE transaction under an advisory lock, so the limits hold across replicas: the
 * running row is the reservation, and finishing the row releases it while booking the real bytes.
 */
import { and, asc, count, desc, eq, gt, isNull, lt, min, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { toIso } from "./client.js";
import { precisionTests } from "./schema.js";
import { bookTraffic, monthTraffic } from "./traffic-queries.js";

export type PrecisionTestRow = typeof precisionTests.$inferSelect;

export interface ReservationRequest {
  id: string;
  nodeId: string;
  via: "node" | "direct";
  sizeBytes: number;
  /** Counted against the budget while the test runs (size + overshoot and header margin). */
  reservedBytes: number;
  url: string | null;
  clientIp: string;
  now: Date;
}

export interface ReservationLimits {
  maxConcurrent: number;
  perIpPerHour: number;
  budgetBytes: number;
  /** Running rows older than this are a crashed replica's: marked abandoned, they block nothing. */
  staleAfterS: number;
  /** How long a live test can still run, for Retry-After. */
  maxSeconds: number;
}

export type ReservationRefusal =
  | { reason: "node_busy"; runningTestId: string; retryAfterS: number }
  | { reason: "per_ip"; limit: number; used: number; retryAfterS: number }
  | { reason: "concurrency"; limit: number; running: number; retryAfterS: number }
  | {
      reason: "budget";
      budgetBytes: number;
      /** This month's ledger, every mechanism, in and out. */
      usedBytes: number;
      /** Reserved by the tests running now. */
      runningReservedBytes: number;
      requestedBytes: number;
      retryAfterS: number;
    };

export type Reservation = { ok: true } | ({ ok: false } & ReservationRefusal);

const HOUR_MS = 3_600_000;

/** Checks every limit and inserts the running row, or says which limit refused (nothing written then). */
export async function reservePrecisionTest(
  db: Db,
  request: ReservationRequest,
  limits: ReservationLimits,
): Promise<Reservation> {
  const now = request.now;
  return db.transaction(async (tx) => {
    // One reservation at a time across replicas: the checks below and the insert are one step.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('viper-store:precision-reserve'))`);
    await tx
      .update(precisionTests)
      .set({
        status: "abandoned",
        finishedAt: now,
        error: `still marked running after ${limits.staleAfterS} s: the replica that ran it stopped before it finished; its traffic is unknown`,
      })
      .where(
        and(
          isNull(precisionTests.finishedAt),
          lt(precisionTests.startedAt, new Date(now.getTime() - limits.staleAfterS * 1000)),
        ),
      );

    const running = await tx
      .select({
        id: precisionTests.id,
        nodeId: precisionTests.nodeId,
        startedAt: precisionTests.startedAt,
        reservedBytes: precisionTests.reservedBytes,
      })
      .from(precisionTests)
      .where(isNull(precisionTests.finishedAt))
      .orderBy(asc(precisionTests.startedAt));
    // A live test ends within maxSeconds of its start (plus clean-up).
    const endsInS = (startedAt: Date) =>
      Math.max(1, Math.ceil((startedAt.getTime() + limits.maxSeconds * 1000 - now.getTime()) / 1000) + 1);

    const busy = running.find((r) => r.nodeId === request.nodeId);
    if (busy)
      return { ok: false, reason: "node_busy", runningTestId: busy.id, retryAfterS: endsInS(busy.startedAt) };

    const windowStart = new Date(now.getTime() - HOUR_MS);
    const [perIp] = await tx
      .select({ used: count(), oldest: min(precisionTests.startedAt) })
      .from(precisionTests)
      .where(and(eq(precisionTests.clientIp, request.clientIp), gt(precisionTests.startedAt, windowStart)));
    const used = Number(perIp?.used ?? 0);
    if (used >= limits.perIpPerHour) {
      const oldest = perIp?.oldest ? new Date(toIso(perIp.oldest) ?? now.toISOString()) : now;
      const retryAfterS = Math.max(1, Math.ceil((oldest.getTime() + HOUR_MS - now.getTime()) / 1000));
      return { ok: false, reason: "per_ip", limit: limits.perIpPerHour, used, retryAfterS };
    }

    if (running.length >= limits.maxConcurrent) {
      return {
        ok: false,
        reason: "concurrency",
        limit: limits.maxConcurrent,
        running: running.length,
        retryAfterS: endsInS(running[0]!.startedAt),
      };
    }

    const month = await monthTraffic(tx, now);
    const usedBytes = Object.values(month).reduce((sum, m) => sum + m.bytes_in + m.bytes_out, 0);
    const runningReservedBytes = running.reduce((sum, r) => sum + Number(r.reservedBytes), 0);
    if (usedBytes + runningReservedBytes + request.reservedBytes > limits.budgetBytes) {
      // Past the budget on the ledger alone: wait for next month; otherwise for the running tests.
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      const retryAfterS =
        usedBytes + request.reservedBytes > limits.budgetBytes || running.length === 0
          ? Math.max(1, Math.ceil((nextMonth - now.getTime()) / 1000))
          : endsInS(running[0]!.startedAt);
      return {
        ok: false,
        reason: "budget",
        budgetBytes: limits.budgetBytes,
        usedBytes,
        runningReservedBytes,
        requestedBytes: request.reservedBytes,
        retryAfterS,
      };
    }

    await tx.insert(precisionTests).values({
      id: request.id,
      nodeId: request.nodeId,
      via: request.via,
      sizeBytes: request.sizeBytes,
      reservedBytes: request.reservedBytes,
      status: "running",
      url: request.url,
      clientIp: request.clientIp,
      startedAt: now,
    });
    return { ok: true };
  });
}

export interface PrecisionOutcome {
  status: string;
  url: string | null;
  bytesDownloaded: number;
  trafficConsumedBytes: number;
  ttfbMs: number | null;
  durationMs: number | null;
  mbPerS: number | null;
  mbitPerS: number | null;
  p90MbPerS: number | null;
  error: string | null;
}

/**
 * Ends a test: the row gets its result (which releases its reservation) and the ledger gets the
 * bytes it used, in one transaction, so the budget never counts them twice or not at all.
 */
export async function finishPrecisionTest(
  db: Db,
  id: string,
  outcome: PrecisionOutcome,
  at: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(precisionTests)
      .set({
        status: outcome.status,
        url: outcome.url,
        bytesDownloaded: outcome.bytesDownloaded,
        trafficConsumedBytes: outcome.trafficConsumedBytes,
        ttfbMs: outcome.ttfbMs,
        durationMs: outcome.durationMs,
        mbPerS: outcome.mbPerS,
        mbitPerS: outcome.mbitPerS,
        p90MbPerS: outcome.p90MbPerS,
        error: outcome.error,
        finishedAt: at,
      })
      .where(eq(precisionTests.id, id));
    await bookTraffic(tx, { mechanism: "precision", bytesIn: outcome.trafficConsumedBytes, bytesOut: 0, at });
  });
}

/** A node's tests, newest first (running ones included). */
export async function listPrecisionTests(db: Db, nodeId: string, limit: number): Promise<PrecisionTestRow[]> {
  return db
    .select()
    .from(precisionTests)
    .where(eq(precisionTests.nodeId, nodeId))
    .orderBy(desc(precisionTests.startedAt), desc(precisionTests.id))
    .limit(limit);
}
