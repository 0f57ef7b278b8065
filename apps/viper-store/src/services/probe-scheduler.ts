/**
 * Supplementary detection (DESIGN 7): every tick, the replica that claims it re-checks a batch of
 * nodes not observed for PROBE_STALE_AFTER seconds through @viper/probe and merges the results as
 * measurements of source viper-store, region $REGION.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkNodes, throughNodeSupport } from "@viper/probe";
import { parseShareLink, type ShareLink } from "@viper/protocol";
import type { Db } from "../db/client.js";
import type { NodeRow } from "../db/node-queries.js";
import { dueNodes } from "../db/probe-queries.js";
import { type ProbeConfig, recordChecks } from "./node-checks.js";

/** A schedule shared by replicas: one replica wins each tick and holds it until it finishes. */
export interface TickSchedule {
  /** True for exactly one replica per tick; the winner holds a lease of `leaseMs`. */
  claim(key: string, intervalMs: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease back once the tick is done. */
  finish(key: string): Promise<void>;
}

export const PROBE_TICK_KEY = "probe-scheduler";

/** Due rows read per query while skipping untestable nodes, and at most per tick. */
const SCAN_PAGE = 500;
const MAX_SCAN_ROWS = 20_000;

export interface ProbeScheduleOptions {
  /** How often a tick is due (and the claim's lease). Default 60 s. */
  tickMs?: number;
  /** Nodes per tick. Default 64: with the default concurrency a tick ends well within its lease. */
  batchSize?: number;
  /** Checks in flight. Default 16. */
  concurrency?: number;
}

export interface ProbeSchedulerDeps {
  db: Db;
  probe: ProbeConfig;
  /** PROBE_STALE_AFTER in seconds (> 0). */
  staleAfterS: number;
  ticks: TickSchedule;
  log: (message: string) => void;
  schedule?: ProbeScheduleOptions;
}

export interface ProbeTickReport {
  checked: number;
  measured: number;
  /** Due nodes passed over because the probe cannot test them. */
  untestable: number;
}

export interface ProbeScheduler {
  /** Aborts a running tick (its cores are stopped) and waits for the loop to end. */
  stop(): Promise<void>;
}

/** One tick: the due batch, checked and recorded. Exported for tests. */
export async function runProbeTick(
  deps: Omit<ProbeSchedulerDeps, "ticks" | "log">,
  signal?: AbortSignal,
): Promise<ProbeTickReport> {
  const batchSize = deps.schedule?.batchSize ?? 64;
  const staleBefore = new Date(Date.now() - deps.staleAfterS * 1000);
  // Nodes the probe cannot test (REALITY, shadowsocks-2022, …) get no measurement, so they stay
  // due forever and sort first: skip them here, or they would fill every batch and starve the rest.
  const targets: { row: NodeRow; link: ShareLink }[] = [];
  let untestable = 0;
  for (let offset = 0; targets.length < batchSize && offset < MAX_SCAN_ROWS; offset += SCAN_PAGE) {
    const page = await dueNodes(deps.db, staleBefore, SCAN_PAGE, offset);
    for (const row of page) {
      const parsed = parseShareLink(row.url);
      if (!parsed.ok || throughNodeSupport(parsed.link).kind === "unsupported") {
        untestable++;
        continue;
      }
      if (targets.length < batchSize) targets.push({ row, link: parsed.link });
    }
    if (page.length < SCAN_PAGE) break;
  }
  if (targets.length === 0) return { checked: 0, measured: 0, untestable };
  const results = await checkNodes(
    targets.map((t) => t.link),
    {
      probeUrl: deps.probe.probeUrl,
      timeoutMs: deps.probe.timeoutMs,
      v2rayBin: deps.probe.v2rayBin,
      concurrency: deps.schedule?.concurrency ?? 16,
      ...(signal ? { signal } : {}),
      ...(deps.probe.notice ? { onNotice: deps.probe.notice } : {}),
    },
  );
  const checks = targets.map((t, i) => ({ row: t.row, result: results[i]! }));
  const { measured } = await recordChecks(deps.db, checks, deps.probe.region, new Date());
  return {
    checked: checks.length,
    measured,
    untestable,
  };
}

/**
 * Starts the loop (a plain sleep loop: a slow tick never queues ticks up). The first tick comes
 * one interval after start, so a restart does not re-check at once, and short-lived stores (tests
 * of other features) never probe.
 */
export function startProbeScheduler(deps: ProbeSchedulerDeps): ProbeScheduler {
  const tickMs = deps.schedule?.tickMs ?? 60_000;
  // Longer than a tick can take (checks run in rounds of `concurrency`), so no replica starts the
  // next tick on the same due nodes while this one is still checking them.
  const rounds = Math.ceil((deps.schedule?.batchSize ?? 64) / (deps.schedule?.concurrency ?? 16));
  const leaseMs = Math.max(120_000, rounds * deps.probe.timeoutMs + 60_000);
  const controller = new AbortController();
  const { signal } = controller;
  const loop = (async () => {
    while (!signal.aborted) {
      try {
        await sleep(tickMs, undefined, { signal });
      } catch {
        return; // stopped while waiting
      }
      try {
        if (!(await deps.ticks.claim(PROBE_TICK_KEY, tickMs, leaseMs))) continue;
        const report = await runProbeTick(deps, signal).finally(() =>
          deps.ticks.finish(PROBE_TICK_KEY).catch(() => {}),
        );
        if (report.checked > 0) {
          deps.log(
            `viper-store: probe tick checked ${report.checked} node(s), ${report.measured} measurement(s), ${report.untestable} untestable passed over`,
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        deps.log(`viper-store: probe tick failed: ${(err as Error).message}`);
      }
    }
  })();
  return {
    stop: async () => {
      controller.abort();
      await loop;
    },
  };
}
