/**
 * The store's own checks of known nodes (DESIGN 7): through the node (`@viper/probe` checkNode /
 * checkNodes) and the quick TCP test. Results become measurements through the one merge
 * (mechanism "probe", source "viper-store", region $REGION) and are booked in the ledger.
 */
import { randomUUID } from "node:crypto";
import { type CheckResult, checkNode, locateV2ray, tcpProbe } from "@viper/probe";
import { parseShareLink } from "@viper/protocol";
import type { Db } from "../db/client.js";
import { getNodeRow, type NodeRow } from "../db/node-queries.js";
import { bookTraffic } from "../db/traffic-queries.js";
import type { Env } from "../env.js";
import { mergeStoreMeasurements, type StoreObservation } from "./store-measurements.js";

/** The measurements of the store's own probes carry this source. */
export const STORE_PROBE_SOURCE = "viper-store";

/** PROBE_URL, PROBE_TIMEOUT_MS, V2RAY_BIN and REGION, as the store was configured. */
export interface ProbeConfig {
  /** undefined → @viper/probe's default (a generate_204 URL). */
  probeUrl?: string | undefined;
  timeoutMs: number;
  /** undefined → v2ray on PATH; null → no core (TCP fallback). */
  v2rayBin?: string | null | undefined;
  /** '' when REGION is unset. */
  region: string;
  /** Where one-time probe notices (v2ray missing) go. */
  notice?: (message: string) => void;
}

export interface CheckReply {
  ok: boolean | null;
  latency_ms: number | null;
  method: CheckResult["method"];
  error: string | null;
}

export interface QuickTestReply {
  ok: boolean;
  latency_ms: number | null;
  availability: number;
  method: "tcp";
}

/** A node that was checked and its result. */
export interface CheckTarget {
  row: NodeRow;
  result: CheckResult;
}

/** `POST /api/nodes/:id/check`: null for an unknown id. The core (if any) has exited on return. */
export async function checkStoredNode(db: Db, id: string, config: ProbeConfig): Promise<CheckReply | null> {
  const row = await getNodeRow(db, id);
  if (!row) return null;
  const parsed = parseShareLink(row.url);
  const result: CheckResult = parsed.ok
    ? await checkNode(parsed.link, {
        probeUrl: config.probeUrl,
        timeoutMs: config.timeoutMs,
        v2rayBin: config.v2rayBin,
        ...(config.notice ? { onNotice: config.notice } : {}),
      })
    : unreadableLink(parsed.error);
  await recordChecks(db, [{ row, result }], config.region, new Date());
  return { ok: result.ok, latency_ms: result.latencyMs, method: result.method, error: result.error };
}

/**
 * `POST /api/nodes/:id/quick-test`: 3 TCP connects, median latency. Booked in the ledger but not
 * stored as a measurement: a TCP connect cannot tell a live vmess node from a dead one, and its
 * availability would overwrite the through-node verdict of the same (source, region).
 */
export async function quickTestStoredNode(
  db: Db,
  id: string,
  config: Pick<ProbeConfig, "timeoutMs">,
): Promise<QuickTestReply | null> {
  const row = await getNodeRow(db, id);
  if (!row) return null;
  const probe = await tcpProbe(
    { host: row.host, port: row.port },
    { attempts: 3, timeoutMs: config.timeoutMs },
  );
  // TCP handshakes carry no payload bytes; the ledger still counts the test.
  await bookTraffic(db, { mechanism: "probe", bytesIn: 0, bytesOut: 0 });
  return { ok: probe.ok, latency_ms: probe.latencyMs, availability: probe.availability, method: "tcp" };
}

/**
 * Stores check results as measurements (one delivery per method, since a delivery carries one
 * method) and books their bytes. Unsupported results are no measurement and moved no bytes.
 */
export async function recordChecks(
  db: Db,
  checks: readonly CheckTarget[],
  region: string,
  at: Date,
): Promise<{ measured: number; rejected: number }> {
  const byMethod = new Map<string, CheckTarget[]>();
  let bytesIn = 0;
  let bytesOut = 0;
  let ran = 0;
  for (const check of checks) {
    if (check.result.method === "unsupported" || check.result.ok === null) continue;
    ran++;
    bytesIn += check.result.bytesIn;
    bytesOut += check.result.bytesOut;
    const group = byMethod.get(check.result.method) ?? [];
    group.push(check);
    byMethod.set(check.result.method, group);
  }
  let measured = 0;
  let rejected = 0;
  for (const [method, group] of byMethod) {
    const outcome = await mergeStoreMeasurements(db, {
      deliveryId: `probe_${randomUUID()}`,
      mechanism: "probe",
      method,
      source: STORE_PROBE_SOURCE,
      region,
      at,
      observations: group.map(observation),
    });
    if (outcome.status === "success") {
      measured += group.length - outcome.rejected.length;
      rejected += outcome.rejected.length;
    }
  }
  if (ran > 0) await bookTraffic(db, { mechanism: "probe", bytesIn, bytesOut, at, count: ran });
  return { measured, rejected };
}

function observation({ row, result }: CheckTarget): StoreObservation {
  // A check is no speed test: speed stays unmeasured.
  return {
    row,
    latency: result.ok ? result.latencyMs : null,
    speed: null,
    availability: result.ok ? 100 : 0,
  };
}

/** The stored URL is canonical, so this should not happen; if it does, it is no verdict on the node. */
function unreadableLink(error: string): CheckResult {
  return {
    ok: null,
    latencyMs: null,
    method: "unsupported",
    error: `the stored share link cannot be read: ${error}`,
    httpStatus: null,
    bytesIn: 0,
    bytesOut: 0,
    bytesCounted: "none",
    note: null,
  };
}

/** A bad V2RAY_BIN (not an executable file); the message names it. */
export class ProbeConfigError extends Error {
  override name = "ProbeConfigError";
}

/**
 * The probe settings of the store's environment. V2RAY_BIN is checked here, at start: a typo must
 * not silently turn every through-node check into a TCP connect. Unset → v2ray on PATH (looked up
 * by @viper/probe), or TCP with a notice when there is none.
 */
export function probeConfigFromEnv(
  env: Pick<Env, "PROBE_URL" | "PROBE_TIMEOUT_MS" | "V2RAY_BIN" | "REGION">,
  log: (message: string) => void,
): ProbeConfig {
  let v2rayBin: string | undefined;
  if (env.V2RAY_BIN) {
    try {
      v2rayBin = locateV2ray({ V2RAY_BIN: env.V2RAY_BIN }) ?? undefined;
    } catch (err) {
      throw new ProbeConfigError(`viper-store: ${(err as Error).message}`);
    }
  }
  return {
    probeUrl: env.PROBE_URL,
    timeoutMs: env.PROBE_TIMEOUT_MS,
    v2rayBin,
    region: env.REGION ?? "",
    notice: (message) => log(`viper-store: probe: ${message}`),
  };
}
