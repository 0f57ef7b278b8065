import { setTimeout as sleep } from "node:timers/promises";
import { claimTick, finishTick, readTick } from "../db/claim.js";
import type { Db } from "../db/client.js";
import { purgeHistory, purgeStaleNodes } from "../db/janitor-queries.js";

/** The sync_state key of the janitor's schedule. */
export const JANITOR_STATE_KEY = "janitor";

const DAY_MS = 86_400_000;
const MIN_SLEEP_MS = 20;

export interface RetentionRules {
  /** STALE_PURGE_DAYS: stale nodes older than this are deleted; 0 = keep them forever. */
  stalePurgeDays: number;
  /** HISTORY_RETENTION_DAYS: history rows older than this are deleted; 0 = keep history forever. */
  historyRetentionDays: number;
}

export interface JanitorResult {
  purged_nodes: number;
  purged_measurements: number;
}

/** Applies the retention rules once, relative to `now`. */
export async function applyRetention(
  db: Db,
  rules: RetentionRules,
  now = new Date(),
): Promise<JanitorResult> {
  const purged_nodes =
    rules.stalePurgeDays > 0
      ? await purgeStaleNodes(db, new Date(now.getTime() - rules.stalePurgeDays * DAY_MS))
      : 0;
  const purged_measurements =
    rules.historyRetentionDays > 0
      ? await purgeHistory(db, new Date(now.getTime() - rules.historyRetentionDays * DAY_MS))
      : 0;
  return { purged_nodes, purged_measurements };
}

export interface JanitorOptions {
  db: Db;
  rules: RetentionRules;
  instanceId: string;
  log: (message: string) => void;
  /** Default hourly. */
  intervalMs?: number;
}

/**
 * Runs {@link applyRetention} on a schedule shared by every replica: each tick is claimed in
 * the database (the poller's claim), so one replica cleans up per tick.
 */
export class Janitor {
  private readonly options: JanitorOptions;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: JanitorOptions) {
    this.options = options;
  }

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { db, instanceId, log, rules } = this.options;
    const intervalMs = this.options.intervalMs ?? 3_600_000;
    while (!signal.aborted) {
      let waitMs = intervalMs;
      try {
        const claim = await claimTick(db, JANITOR_STATE_KEY, intervalMs, instanceId);
        if (claim.claimed) {
          const result = await applyRetention(db, rules);
          await finishTick(db, JANITOR_STATE_KEY, instanceId, {
            patch: { last_run_at: new Date().toISOString(), ...result },
            increment: ["run_count"],
          });
          if (result.purged_nodes + result.purged_measurements > 0) {
            log(
              `viper-store: janitor purged ${result.purged_nodes} stale node(s), ${result.purged_measurements} history row(s)`,
            );
          }
        }
        const next = claim.claimed ? await readTick(db, JANITOR_STATE_KEY) : claim;
        if (next.nextRunAt) waitMs = next.nextRunAt.getTime() - next.dbNow.getTime();
      } catch (err) {
        if (!signal.aborted) log(`viper-store: janitor: ${(err as Error).message}; retrying later`);
      }
      await sleep(Math.min(Math.max(waitMs, MIN_SLEEP_MS), intervalMs), undefined, { signal }).catch(
        () => {},
      );
    }
  }
}
