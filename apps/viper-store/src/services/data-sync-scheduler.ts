import { setTimeout as sleep } from "node:timers/promises";
import { claimTick, counter, finishTick, readTick, type StateValue, type TickClaim } from "../db/claim.js";
import type { Db } from "../db/client.js";
import { changedByOthersSince } from "../db/sync-queries.js";
import { type FeedPollConfig, type FeedPollMemory, type PollOutcome, pollFeedOnce } from "./feed-poller.js";

/** The sync_state key of the poller's schedule and results. */
export const POLL_STATE_KEY = "poll";

export interface DataSyncSchedulerOptions {
  db: Db;
  /** Full feed URL; undefined = no feed configured (the poller stays off). */
  feedUrl: string | undefined;
  /** POLL_INTERVAL in seconds; 0 = no scheduled polls (poll-now still works with a feed URL). */
  intervalS: number;
  /** WEBHOOK_SECRET. */
  secrets: string;
  toleranceS: number;
  maxBodyBytes: number;
  /** This replica's id, recorded as `leader` of the ticks it takes. */
  instanceId: string;
  log: (message: string) => void;
  /** Per poll, connect to last byte (DESIGN 6: 10 s). */
  timeoutMs?: number;
  /** First retry delay after an error; doubles per consecutive error, capped at the interval. Default 5 s. */
  backoffBaseMs?: number;
}

/** Thrown by pollNow when no feed URL is configured. */
export class PollNotConfiguredError extends Error {
  override name = "PollNotConfiguredError";
  constructor() {
    super("no feed to poll: set SPIDERFLOW_API_URL (the hunter's base URL) or SPIDERFLOW_FEED_URL");
  }
}

const JITTER = 0.1;
/** A tick holds the job at most this long (10 s fetch + a large merge) before others may assume it died. */
const LEASE_MS = 120_000;
/** How long poll-now waits for a running poll (of any replica) to finish. */
const POLL_NOW_WAIT_MS = 60_000;
const MIN_SLEEP_MS = 20;

/**
 * Polls the hunter's feed every POLL_INTERVAL seconds (±10%), as a fallback for lost webhooks
 * (DESIGN 6). The loop is a plain `while` + abortable sleep; each tick is claimed in the
 * database, so with several replicas exactly one of them polls. Results live in sync_state.
 */
export class DataSyncScheduler {
  readonly enabled: boolean;
  readonly intervalS: number;
  readonly feedUrl: string | undefined;
  private readonly options: DataSyncSchedulerOptions;
  private readonly config: FeedPollConfig | undefined;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(options: DataSyncSchedulerOptions) {
    this.options = options;
    this.intervalS = options.intervalS;
    this.feedUrl = options.feedUrl;
    this.enabled = Boolean(options.feedUrl) && options.intervalS > 0;
    this.config = options.feedUrl
      ? {
          url: options.feedUrl,
          secrets: options.secrets,
          toleranceS: options.toleranceS,
          maxBodyBytes: options.maxBodyBytes,
          timeoutMs: options.timeoutMs ?? 10_000,
        }
      : undefined;
  }

  /** Starts the loop (no-op when polling is off or already started). */
  start(): void {
    if (!this.enabled || this.loop) return;
    this.stopping = false;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  /** Stops the loop and waits for a poll in progress (it is aborted) to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.controller?.abort();
    await this.loop;
    await Promise.allSettled([...this.running]);
    this.loop = undefined;
  }

  /** Polls now, outside the schedule but never at the same time as another poll of any replica. */
  async pollNow(): Promise<PollOutcome> {
    if (!this.config) throw new PollNotConfiguredError();
    const deadline = Date.now() + POLL_NOW_WAIT_MS;
    for (;;) {
      const claim = await this.claim(true);
      if (claim.claimed) return this.track(this.runTick(claim, this.controller?.signal));
      if (Date.now() > deadline || this.stopping) return busyOutcome(claim.value);
      await sleep(100);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let waitMs: number;
      try {
        const claim = await this.claim(false);
        if (claim.claimed) await this.track(this.runTick(claim, signal));
        const next = claim.claimed ? await readTick(this.options.db, POLL_STATE_KEY) : claim;
        waitMs = next.nextRunAt ? next.nextRunAt.getTime() - next.dbNow.getTime() : this.intervalMs();
        failures = 0;
      } catch (err) {
        // The database itself failed (not the feed): retry with the same capped backoff.
        failures++;
        waitMs = this.backoffMs(failures);
        if (!signal.aborted) {
          this.options.log(
            `viper-store: poll scheduler: ${(err as Error).message}; retrying in ${waitMs} ms`,
          );
        }
      }
      await sleep(Math.min(Math.max(waitMs, MIN_SLEEP_MS), this.intervalMs()), undefined, { signal }).catch(
        () => {},
      );
    }
  }

  private claim(force: boolean): Promise<TickClaim> {
    return claimTick(this.options.db, POLL_STATE_KEY, this.jitteredIntervalMs(), this.options.instanceId, {
      force,
      leaseMs: LEASE_MS,
    });
  }

  /** Runs a claimed tick and records it; the lease is given back whatever happens. */
  private async runTick(claim: TickClaim, signal?: AbortSignal): Promise<PollOutcome> {
    const { db, instanceId, log } = this.options;
    const startedAt = new Date().toISOString();
    let memory: FeedPollMemory = {
      lastEtag: text(claim.value.last_etag),
      lastAppliedHash: text(claim.value.last_applied_hash),
    };
    let outcome: PollOutcome;
    try {
      memory = await this.stillValid(memory, claim.value);
      outcome = await pollFeedOnce(db, this.config!, memory, signal);
    } catch (err) {
      // Database trouble while applying: nothing was committed (one transaction per merge).
      outcome = {
        result: "error",
        error: `applying the feed failed: ${(err as Error).message}`,
        etag: null,
        bytes_in: 0,
        bytes_out: 0,
        duration_ms: 0,
        memory,
      };
    }
    const errors = outcome.result === "error" ? counter(claim.value, "consecutive_errors") + 1 : 0;
    const patch: StateValue = {
      last_poll_at: new Date().toISOString(),
      last_result: outcome.result,
      last_error: outcome.error ?? null,
      last_etag: outcome.memory.lastEtag,
      last_applied_hash: outcome.memory.lastAppliedHash,
      last_duration_ms: outcome.duration_ms,
      // As of when this poll started, the store held what the feed held (or what we applied).
      ...(outcome.result === "error" ? {} : { last_applied_at: startedAt }),
      ...(outcome.source ? { last_applied_source: outcome.source } : {}),
      consecutive_errors: errors,
      ...(outcome.result === "changed" ? { last_changed_at: new Date().toISOString() } : {}),
      ...(outcome.result === "error" ? { last_error_at: new Date().toISOString() } : {}),
    };
    const increment = ["poll_count", ...(outcome.result === "changed" ? ["changed_count"] : [])];
    await finishTick(db, POLL_STATE_KEY, instanceId, {
      patch,
      increment,
      ...(errors > 0 ? { nextRunInMs: this.backoffMs(errors) } : {}),
    }).catch((err: unknown) =>
      log(`viper-store: recording the poll result failed: ${(err as Error).message}`),
    );
    const detail =
      outcome.result === "error"
        ? outcome.error
        : `${outcome.reason ?? "applied"}${outcome.counts ? ` ${JSON.stringify(outcome.counts)}` : ""}`;
    log(
      `viper-store: poll by ${instanceId}: ${outcome.result} (${detail}; ${outcome.bytes_in} bytes in; ` +
        `tick claimed at ${claim.dbNow.toISOString()})`,
    );
    return outcome;
  }

  /**
   * The skip rules compare with what the poller itself applied. If a webhook changed the same
   * source's nodes since, that memory no longer describes the store: forget it, so the feed's
   * content is fetched and merged again (a webhook never makes a later poll skip data).
   */
  private async stillValid(memory: FeedPollMemory, value: StateValue): Promise<FeedPollMemory> {
    const since = text(value.last_applied_at);
    const source = text(value.last_applied_source);
    if (!memory.lastAppliedHash || !since || !source) return memory;
    if (!(await changedByOthersSince(this.options.db, source, since))) return memory;
    return { lastEtag: null, lastAppliedHash: null };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    work.then(
      () => this.running.delete(work),
      () => this.running.delete(work),
    );
    return work;
  }

  private intervalMs(): number {
    return Math.max(1, this.intervalS) * 1000;
  }

  private jitteredIntervalMs(): number {
    return this.intervalMs() * (1 + (Math.random() * 2 - 1) * JITTER);
  }

  /** base · 2^(n−1), capped at the interval. */
  private backoffMs(consecutiveErrors: number): number {
    const base = this.options.backoffBaseMs ?? 5000;
    return Math.min(this.intervalMs(), base * 2 ** Math.min(30, consecutiveErrors - 1));
  }
}

function busyOutcome(value: StateValue): PollOutcome {
  return {
    result: "error",
    error: `another poll (by ${String(value.leader ?? "another replica")}) is still running; try again later`,
    etag: null,
    bytes_in: 0,
    bytes_out: 0,
    duration_ms: 0,
    memory: { lastEtag: text(value.last_etag), lastAppliedHash: text(value.last_applied_hash) },
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
