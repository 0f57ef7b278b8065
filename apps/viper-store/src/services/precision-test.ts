/**
 * The precision speed test (DESIGN 7): plan (is the node there, can it be tested through),
 * reserve against the global limits in the database, download with @viper/probe's meter, then
 * record — the row, the ledger (whatever the status) and, for a valid measurement through the
 * node, a `precision` measurement through the one merge. No HTTP here.
 */
import { randomUUID } from "node:crypto";
import {
  DEFAULT_PRECISION_TEST_URL,
  expandTestUrl,
  locateV2ray,
  type PrecisionProgress,
  type PrecisionResult,
  precisionDownload,
  ThroughNodeError,
  throughNodeSupport,
} from "@viper/probe";
import { parseShareLink, type ShareLink } from "@viper/protocol";
import type { Db } from "../db/client.js";
import { getNodeRow, type NodeRow } from "../db/node-queries.js";
import {
  finishPrecisionTest,
  listPrecisionTests,
  type PrecisionTestRow,
  type ReservationRefusal,
  reservePrecisionTest,
} from "../db/precision-queries.js";
import type { Env } from "../env.js";
import { mergeStoreMeasurements } from "./store-measurements.js";

/** The measurement's source (and method): a precision test by this store. */
export const PRECISION_SOURCE = "precision";
/** Decimal megabyte, as the contract counts size_mb. */
export const MB = 1_000_000;
/** Reserved beyond the size: the meter's overshoot (≤ 64 KiB) plus headers and failed attempts. */
export const RESERVE_MARGIN_BYTES = 128 * 1024;
/** A running row older than PRECISION_MAX_SECONDS + this is a crashed replica's. */
export const STALE_MARGIN_S = 60;

export const DIRECT_NOTE =
  "via direct: measures the store's own link to the test server, not the node (asked for explicitly)";

export interface PrecisionConfig {
  maxMb: number;
  maxSeconds: number;
  maxConcurrent: number;
  perIpPerHour: number;
  /** TRAFFIC_BUDGET_GB × 10^9. */
  budgetBytes: number;
  /** PRECISION_TEST_URLS templates, tried in order. */
  urls: string[];
  /** '' when REGION is unset. */
  region: string;
  /** undefined → V2RAY_BIN or PATH (as @viper/probe looks it up); null → no core. */
  v2rayBin?: string | null | undefined;
  /** Progress period of the meter; default 200 ms (five a second). */
  progressIntervalMs?: number;
}

/** A PRECISION_TEST_URLS entry that is not an http(s) URL; the message names it. */
export class PrecisionConfigError extends Error {
  override name = "PrecisionConfigError";
}

/** The precision settings of the store's environment; bad test URLs stop the start. */
export function precisionConfigFromEnv(
  env: Pick<
    Env,
    | "PRECISION_TEST_URLS"
    | "PRECISION_MAX_MB"
    | "PRECISION_MAX_SECONDS"
    | "PRECISION_MAX_CONCURRENT"
    | "PRECISION_PER_IP_PER_HOUR"
    | "TRAFFIC_BUDGET_GB"
    | "REGION"
  >,
  v2rayBin: string | null | undefined,
): PrecisionConfig {
  const urls = (env.PRECISION_TEST_URLS ?? DEFAULT_PRECISION_TEST_URL).split(/\s+/).filter((u) => u !== "");
  for (const template of urls) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(expandTestUrl(template, 1)).protocol);
    } catch {}
    if (!ok) {
      throw new PrecisionConfigError(
        `viper-store: PRECISION_TEST_URLS: ${JSON.stringify(template)} is not an http:// or https:// URL ` +
          "(give space-separated URLs; {bytes} is replaced by the size)",
      );
    }
  }
  return {
    maxMb: env.PRECISION_MAX_MB,
    maxSeconds: env.PRECISION_MAX_SECONDS,
    maxConcurrent: env.PRECISION_MAX_CONCURRENT,
    perIpPerHour: env.PRECISION_PER_IP_PER_HOUR,
    budgetBytes: Math.round(env.TRAFFIC_BUDGET_GB * 1e9),
    urls,
    region: env.REGION ?? "",
    v2rayBin,
  };
}

/**
 * Abort handles of the tests running in this process, so that shutdown can end them: an open SSE
 * stream would otherwise hold `server.close()` until the test's time cap.
 */
export class PrecisionRuns {
  private readonly running = new Set<AbortController>();
  private closedReason: string | null = null;

  /** A signal for one test; `release()` when it has finished. Already aborted after `abortAll`. */
  open(): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    if (this.closedReason !== null) controller.abort(new Error(this.closedReason));
    this.running.add(controller);
    return { signal: controller.signal, release: () => this.running.delete(controller) };
  }

  abortAll(reason: string): void {
    this.closedReason = reason;
    for (const controller of this.running) controller.abort(new Error(reason));
  }

  get size(): number {
    return this.running.size;
  }
}

export type PrecisionVia = "node" | "direct";

export type PrecisionPlan =
  | { ok: true; node: NodeRow; via: PrecisionVia; link: ShareLink | null }
  | { ok: false; code: "node_not_found" | "untestable"; message: string };

/** Whether the node exists and can be tested the way asked, before any confirmation or byte. */
export async function planPrecisionTest(
  db: Db,
  config: Pick<PrecisionConfig, "v2rayBin">,
  nodeId: string,
  via: PrecisionVia,
): Promise<PrecisionPlan> {
  const node = await getNodeRow(db, nodeId);
  if (!node)
    return { ok: false, code: "node_not_found", message: `no node with id ${JSON.stringify(nodeId)}` };
  if (via === "direct") return { ok: true, node, via, link: null };
  const parsed = parseShareLink(node.url);
  if (!parsed.ok) {
    return {
      ok: false,
      code: "untestable",
      message: `the stored share link cannot be read: ${parsed.error}`,
    };
  }
  const support = throughNodeSupport(parsed.link);
  if (support.kind === "unsupported") {
    return {
      ok: false,
      code: "untestable",
      message: `this node cannot be tested through: ${support.reason}`,
    };
  }
  if (support.kind === "core" && !coreAvailable(config.v2rayBin)) {
    return {
      ok: false,
      code: "untestable",
      message: `a ${node.protocol} node is tested through v2ray, which this store does not have (install v2ray or set V2RAY_BIN)`,
    };
  }
  return { ok: true, node, via, link: parsed.link };
}

function coreAvailable(v2rayBin: string | null | undefined): boolean {
  if (v2rayBin !== undefined) return v2rayBin !== null;
  try {
    return locateV2ray() !== null;
  } catch {
    return false; // a bad V2RAY_BIN: the store refused to start with it already
  }
}

/** A node's stored tests, newest first; null for an unknown node. */
export async function nodePrecisionTests(
  db: Db,
  nodeId: string,
  limit: number,
): Promise<PrecisionTestRow[] | null> {
  if (!(await getNodeRow(db, nodeId))) return null;
  return listPrecisionTests(db, nodeId, limit);
}

/** The traffic a test of `sizeMb` costs, as the confirmation tells the user. */
export function confirmationOf(sizeMb: number, via: PrecisionVia) {
  return {
    requires_confirmation: true as const,
    estimated_traffic_bytes: sizeMb * MB,
    message: `将下载${sizeMb}MB文件，消耗${sizeMb}MB流量`,
    message_en: `This downloads a ${sizeMb} MB file and uses ${sizeMb} MB of traffic; send confirm: true to start.`,
    ...(via === "direct" ? { note: DIRECT_NOTE } : {}),
  };
}

export interface ReservedTest {
  id: string;
  plan: Extract<PrecisionPlan, { ok: true }>;
  sizeBytes: number;
}

export type ReserveOutcome = { ok: true; test: ReservedTest } | { ok: false; refusal: ReservationRefusal };

/** Reserves the test against every global limit (in the database); refused → nothing written. */
export async function reservePrecision(
  db: Db,
  config: PrecisionConfig,
  plan: Extract<PrecisionPlan, { ok: true }>,
  sizeMb: number,
  clientIp: string,
): Promise<ReserveOutcome> {
  const id = `pt_${randomUUID()}`;
  const sizeBytes = sizeMb * MB;
  const reservation = await reservePrecisionTest(
    db,
    {
      id,
      nodeId: plan.node.id,
      via: plan.via,
      sizeBytes,
      reservedBytes: sizeBytes + RESERVE_MARGIN_BYTES,
      url: config.urls[0] ? expandTestUrl(config.urls[0], sizeBytes) : null,
      clientIp,
      now: new Date(),
    },
    {
      maxConcurrent: config.maxConcurrent,
      perIpPerHour: config.perIpPerHour,
      budgetBytes: config.budgetBytes,
      staleAfterS: config.maxSeconds + STALE_MARGIN_S,
      maxSeconds: config.maxSeconds,
    },
  );
  if (!reservation.ok) {
    const { ok: _ok, ...refusal } = reservation;
    return { ok: false, refusal };
  }
  return { ok: true, test: { id, plan, sizeBytes } };
}

/** What the client gets: the meter's result plus which test and node it was. */
export type PrecisionReply = PrecisionResult & {
  test_id: string;
  node_id: string;
  size_bytes: number;
  note?: string;
};

export type RunOutcome =
  | { kind: "result"; reply: PrecisionReply }
  /** The node could not be tested through after all (the core failed to start): 422 / SSE error. */
  | { kind: "untestable"; test_id: string; message: string };

/**
 * Runs a reserved test and records it. Resolves once the row is finished and the bytes are booked;
 * a measurement failure is a result, not an exception.
 */
export async function runPrecisionTest(
  db: Db,
  config: PrecisionConfig,
  test: ReservedTest,
  options: { signal: AbortSignal; onProgress?: (progress: PrecisionProgress) => void },
): Promise<RunOutcome> {
  const { plan } = test;
  let result: PrecisionResult;
  try {
    result = await precisionDownload({
      ...(plan.link ? { link: plan.link } : { direct: true as const }),
      sizeBytes: test.sizeBytes,
      urls: config.urls,
      maxSeconds: config.maxSeconds,
      signal: options.signal,
      v2rayBin: config.v2rayBin,
      ...(config.progressIntervalMs ? { progressIntervalMs: config.progressIntervalMs } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (error) {
    const message =
      error instanceof ThroughNodeError ? error.message : `the test broke: ${(error as Error).message}`;
    await finishPrecisionTest(db, test.id, failedOutcome(message), new Date());
    if (error instanceof ThroughNodeError) return { kind: "untestable", test_id: test.id, message };
    throw error;
  }
  const finishedAt = new Date();
  await finishPrecisionTest(
    db,
    test.id,
    {
      status: result.status,
      url: result.url,
      bytesDownloaded: result.bytes_downloaded,
      trafficConsumedBytes: result.traffic_consumed_bytes,
      ttfbMs: result.ttfb_ms,
      durationMs: result.duration_ms,
      mbPerS: result.mb_per_s,
      mbitPerS: result.mbit_per_s,
      p90MbPerS: result.p90_mb_per_s,
      error: result.error,
    },
    finishedAt,
  );
  const measured = result.status === "success" || result.status === "cap_reached";
  // A direct test measures the store's link: it says nothing about the node.
  if (measured && plan.via === "node" && result.mb_per_s !== null) {
    await recordMeasurement(db, plan.node, result.mb_per_s, config.region, test.id, finishedAt);
  }
  return {
    kind: "result",
    reply: {
      ...result,
      test_id: test.id,
      node_id: plan.node.id,
      size_bytes: test.sizeBytes,
      ...(plan.via === "direct" ? { note: DIRECT_NOTE } : {}),
    },
  };
}

function failedOutcome(error: string) {
  return {
    status: "failed",
    url: null,
    bytesDownloaded: 0,
    trafficConsumedBytes: 0,
    ttfbMs: null,
    durationMs: null,
    mbPerS: null,
    mbitPerS: null,
    p90MbPerS: null,
    error,
  };
}

/** The node's measured speed, as a `precision` measurement through the one merge. */
async function recordMeasurement(
  db: Db,
  node: NodeRow,
  mbPerS: number,
  region: string,
  testId: string,
  at: Date,
): Promise<void> {
  await mergeStoreMeasurements(db, {
    deliveryId: `precision_${testId}`,
    mechanism: "precision",
    method: PRECISION_SOURCE,
    source: PRECISION_SOURCE,
    region,
    at,
    // A download measures speed only: latency and availability stay with the checks.
    observations: [{ row: node, latency: null, speed: mbPerS, availability: null }],
  });
}
