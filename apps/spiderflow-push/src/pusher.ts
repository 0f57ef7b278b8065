import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { type EventType, type Mode, signRequest } from "@viper/protocol";
import pRetry, { AbortError } from "p-retry";
import { v7 as uuidv7 } from "uuid";
import { type PayloadError, PushConfigError } from "./errors.js";
import { DEFAULT_HISTORY_FILE, PushHistoryFile } from "./history.js";
import { type HistorySink, MemoryHistory } from "./memory-history.js";
import {
  type EnvelopeOverrides,
  type NodeInput,
  type PreparedPayload,
  prepareFromDocument,
  prepareFromNodes,
} from "./payload.js";
import { backoffDelay, parseRetryAfter } from "./retry-after.js";
import { checkSecrets } from "./secrets.js";
import { answerReason, type HttpAnswer, NoAnswerError, postOnce } from "./transport.js";
import type { OutcomeRecord, PushAttempt, PushOutcome } from "./types.js";

/** Bodies larger than this are sent gzip-compressed. */
export const GZIP_THRESHOLD_BYTES = 1024;

/** Statuses worth another attempt (DESIGN 3, issue 6): timeouts, rate limits and server errors. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Options of {@link createPusher}. */
export interface PusherOptions {
  /** Webhook URL, e.g. `http://localhost:8002/webhook/nodes-update`. */
  url: string;
  /** `WEBHOOK_SECRET` as written: one string (space-separated for rotation) or a list. Signs with all. */
  secrets: string | readonly string[];
  /** Producer id; default `spiderflow`. */
  source?: string;
  /** Where the measurements were taken. */
  region?: string | null;
  /** Retries after the first attempt; default 3 (4 attempts). */
  retries?: number;
  /** Backoff base: the first retry waits about this long, each next one twice as long (±20% jitter). Default 5000. */
  retryDelayMs?: number;
  /** Per-attempt timeout covering the whole exchange; default 15000. */
  timeoutMs?: number;
  /** JSONL push history; default `./data/push-history.jsonl`; `null` keeps it in memory only. */
  historyFile?: string | null;
  /** Called after every attempt (for progress logs). */
  onAttempt?: (attempt: PushAttempt) => void;
}

/** Options of {@link Pusher.push}. */
export interface PushOptions {
  /** `batch_test_complete` after a test round, `nodes_updated` for a delta, … (DESIGN 3.3). */
  eventType: EventType;
  /** Default: snapshot for batch_test_complete and nodes_snapshot, else delta. */
  mode?: Mode;
  /** When the batch was measured; default now. */
  timestamp?: Date | string;
  /** Send even when the content equals the last delivered one. */
  force?: boolean;
  /** Cancels the push, backoff included. */
  signal?: AbortSignal;
}

/** Options of {@link Pusher.pushDocument}: envelope overrides plus `force` and `signal`. */
export interface DocumentPushOptions extends EnvelopeOverrides {
  force?: boolean;
  signal?: AbortSignal;
}

/** A configured sender. Pushes made through one pusher run one after another. */
export interface Pusher {
  /** The receiver URL pushes go to (normalised). */
  readonly url: string;
  /** The history file, or null when kept in memory. */
  readonly historyFile: string | null;
  /**
   * Builds a v1 payload from the hunter's nodes (`speed` in MB/s), normalises it, and delivers it.
   * Receiver answers are outcomes, never exceptions; an envelope the protocol refuses (a future
   * `timestamp`, …) throws {@link PayloadError} before anything is sent, and an unwritable history
   * throws {@link PushConfigError}.
   */
  push(nodes: readonly NodeInput[], options: PushOptions): Promise<PushOutcome>;
  /**
   * Delivers a parsed JSON document: a v1 payload object, or a bare array in the legacy nodes.json
   * shape (its `speed` values are kept as `legacy_score`).
   */
  pushDocument(document: unknown, options?: DocumentPushOptions): Promise<PushOutcome>;
  /** Delivers an already prepared payload. */
  pushPrepared(
    prepared: PreparedPayload,
    options?: { force?: boolean; signal?: AbortSignal },
  ): Promise<PushOutcome>;
}

/** A retryable failure of one attempt, carrying the wait chosen before the next. */
class RetryableAttemptError extends Error {
  override readonly name = "RetryableAttemptError";
  readonly retryInMs: number | undefined;
  readonly answer: HttpAnswer | undefined;

  constructor(message: string, retryInMs: number | undefined, answer?: HttpAnswer) {
    super(message);
    this.retryInMs = retryInMs;
    this.answer = answer;
  }
}

/** A final refusal by the receiver (a 4xx other than 408/429, or a redirect). */
class RefusedError extends Error {
  override readonly name = "RefusedError";
  readonly answer: HttpAnswer;

  constructor(message: string, answer: HttpAnswer) {
    super(message);
    this.answer = answer;
  }
}

function checkInteger(setting: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PushConfigError(setting, `${setting} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PushConfigError("url", `the webhook URL "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new PushConfigError("url", `the webhook URL must be http:// or https://, got "${url}"`);
  }
  return parsed.href;
}

/**
 * Creates a sender for one receiver. Configuration is checked here (a bad URL or secret throws
 * {@link PushConfigError} at once, not on the first push).
 *
 * @example
 * const pusher = createPusher({ url: "http://localhost:8002/webhook/nodes-update", secrets: process.env.WEBHOOK_SECRET! });
 * const outcome = await pusher.push(nodes, { eventType: "batch_test_complete" });
 */
export function createPusher(options: PusherOptions): Pusher {
  const url = checkUrl(options.url);
  const secrets = checkSecrets(options.secrets);
  const retries = checkInteger("retries", options.retries ?? 3, 0, 100);
  const retryDelayMs = checkInteger("retryDelayMs", options.retryDelayMs ?? 5000, 0, 3_600_000);
  const timeoutMs = checkInteger("timeoutMs", options.timeoutMs ?? 15_000, 1, 3_600_000);
  const source = options.source ?? "spiderflow";
  const region = options.region ?? null;
  const historyFile = options.historyFile === undefined ? DEFAULT_HISTORY_FILE : options.historyFile;
  const history: HistorySink = historyFile === null ? new MemoryHistory() : new PushHistoryFile(historyFile);
  let queue: Promise<unknown> = Promise.resolve();

  function serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  }

  async function deliver(
    prepared: PreparedPayload,
    force: boolean,
    signal: AbortSignal | undefined,
  ): Promise<PushOutcome> {
    const started = performance.now();
    const { payload } = prepared;
    const base = {
      receiverUrl: url,
      eventType: payload.event_type,
      mode: payload.mode,
      source: payload.source,
      region: payload.region ?? null,
      contentHash: prepared.contentHash,
      nodeCount: payload.nodes.length,
      rejected: prepared.rejected,
      warnings: prepared.warnings,
      jsonBytes: prepared.json.byteLength,
    };

    const last = force ? undefined : await history.lastDelivered(url);
    if (last && isSameMessage(last, base)) {
      const outcome: PushOutcome = {
        ...base,
        status: "skipped",
        deliveryId: null,
        reason: `unchanged since delivery ${last.deliveryId} at ${last.at} (content hash ${prepared.contentHash.slice(0, 12)}…); use force to send anyway`,
        attempts: [],
        bytes: 0,
        gzip: false,
        durationMs: Math.round(performance.now() - started),
      };
      await recordOutcome(outcome);
      return outcome;
    }

    const gzip = prepared.json.byteLength > GZIP_THRESHOLD_BYTES;
    const body = gzip ? new Uint8Array(gzipSync(prepared.json)) : prepared.json;
    const deliveryId = uuidv7();
    const attempts: PushAttempt[] = [];

    const attemptOnce = async (attemptNumber: number): Promise<HttpAnswer> => {
      const at = new Date();
      const headers: Record<string, string> = {
        ...signRequest({ body, secrets, id: deliveryId, timestamp: Math.floor(at.getTime() / 1000) }),
        "content-type": "application/json",
        "user-agent": "spiderflow-push/1",
      };
      if (gzip) headers["content-encoding"] = "gzip";
      const t0 = performance.now();
      const attempt: PushAttempt = {
        attempt: attemptNumber,
        at: at.toISOString(),
        durationMs: 0,
        bytes: body.byteLength,
      };
      const retriesLeft = retries - (attemptNumber - 1);
      let failure: Error | undefined;
      let answer: HttpAnswer | undefined;
      try {
        answer = await postOnce({ url, body, headers, timeoutMs, signal });
        attempt.httpStatus = answer.status;
      } catch (error) {
        if (!(error instanceof NoAnswerError)) throw error; // cancelled by the caller
        attempt.error = error.message;
        failure = error;
      }
      attempt.durationMs = Math.round(performance.now() - t0);

      let thrown: Error | undefined;
      if (answer && answer.status >= 200 && answer.status < 300) {
        thrown = undefined;
      } else if (answer && !isRetryableStatus(answer.status)) {
        attempt.error = answerReason(answer);
        thrown = new AbortError(new RefusedError(attempt.error, answer));
      } else {
        if (answer) attempt.error = answerReason(answer);
        const retryAfter = answer ? parseRetryAfter(answer.headers.get("retry-after")) : null;
        const wait = retriesLeft > 0 ? (retryAfter ?? backoffDelay(attemptNumber, retryDelayMs)) : undefined;
        if (wait !== undefined) attempt.retryInMs = wait;
        thrown = new RetryableAttemptError(attempt.error ?? failure?.message ?? "failed", wait, answer);
      }
      attempts.push(attempt);
      await history.append({
        kind: "attempt",
        at: attempt.at,
        deliveryId,
        receiverUrl: url,
        eventType: payload.event_type,
        nodeCount: payload.nodes.length,
        contentHash: prepared.contentHash,
        attempt: attemptNumber,
        httpStatus: attempt.httpStatus ?? null,
        durationMs: attempt.durationMs,
        bytes: attempt.bytes,
        error: attempt.error ?? null,
        retryInMs: attempt.retryInMs ?? null,
      });
      options.onAttempt?.(attempt);
      if (thrown) throw thrown;
      return answer as HttpAnswer;
    };

    let outcome: PushOutcome;
    const sent = { ...base, deliveryId, attempts, bytes: body.byteLength, gzip };
    try {
      const answer = await pRetry(attemptOnce, {
        retries,
        // The wait is chosen per attempt (backoff or Retry-After) and slept in onFailedAttempt,
        // so p-retry's own delay is zero.
        minTimeout: 0,
        factor: 1,
        signal,
        shouldRetry: ({ error }) => error instanceof RetryableAttemptError,
        onFailedAttempt: async ({ error }) => {
          if (error instanceof RetryableAttemptError && error.retryInMs !== undefined) {
            await sleep(error.retryInMs, undefined, { signal });
          }
        },
      });
      const duplicate = isDuplicateAnswer(answer.body);
      outcome = {
        ...sent,
        status: duplicate ? "duplicate" : "delivered",
        httpStatus: answer.status,
        response: answer.body,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      if (error instanceof RefusedError) {
        outcome = {
          ...sent,
          status: "refused",
          httpStatus: error.answer.status,
          response: error.answer.body,
          reason: error.message,
          durationMs,
        };
      } else if (error instanceof RetryableAttemptError) {
        outcome = {
          ...sent,
          status: "gave_up",
          ...(error.answer ? { httpStatus: error.answer.status, response: error.answer.body } : {}),
          reason: `gave up after ${attempts.length} attempt${attempts.length === 1 ? "" : "s"}: ${error.message}`,
          durationMs,
        };
      } else if (signal?.aborted) {
        outcome = {
          ...sent,
          status: "gave_up",
          reason: `gave up: cancelled by the caller (${String(signal.reason)})`,
          durationMs,
        };
      } else {
        throw error;
      }
    }
    await recordOutcome(outcome);
    return outcome;
  }

  async function recordOutcome(outcome: PushOutcome): Promise<void> {
    await history.append({
      kind: "outcome",
      at: new Date().toISOString(),
      deliveryId: outcome.deliveryId,
      receiverUrl: outcome.receiverUrl,
      eventType: outcome.eventType,
      mode: outcome.mode,
      source: outcome.source,
      region: outcome.region,
      nodeCount: outcome.nodeCount,
      contentHash: outcome.contentHash,
      status: outcome.status,
      httpStatus: outcome.httpStatus ?? null,
      durationMs: outcome.durationMs,
      bytes: outcome.bytes,
      attempts: outcome.attempts.length,
      error: outcome.reason ?? null,
    });
  }

  return {
    url,
    historyFile,
    push(nodes, pushOptions) {
      return serialised(() => {
        const prepared = prepareFromNodes(nodes, {
          eventType: pushOptions.eventType,
          ...(pushOptions.mode ? { mode: pushOptions.mode } : {}),
          ...(pushOptions.timestamp ? { timestamp: pushOptions.timestamp } : {}),
          source,
          region,
        });
        return deliver(prepared, pushOptions.force ?? false, pushOptions.signal);
      });
    },
    pushDocument(document, documentOptions = {}) {
      return serialised(() => {
        const { force, signal, ...overrides } = documentOptions;
        const prepared = prepareFromDocument(document, {
          ...(options.source ? { source: options.source } : {}),
          ...(options.region ? { region: options.region } : {}),
          ...overrides,
        });
        return deliver(prepared, force ?? false, signal);
      });
    },
    pushPrepared(prepared, pushOptions = {}) {
      return serialised(() => deliver(prepared, pushOptions.force ?? false, pushOptions.signal));
    },
  };
}

/**
 * Whether a push would tell the receiver nothing new: the same nodes (content hash) as the last
 * delivered push, with the same meaning. Event type and mode change what the receiver does (a
 * `test_push` applies nothing; a snapshot stales), and source and region change who owns and
 * measured the nodes, so they are part of "unchanged" too.
 */
function isSameMessage(
  last: OutcomeRecord,
  next: Pick<PushOutcome, "contentHash" | "eventType" | "mode" | "source" | "region">,
): boolean {
  return (
    last.contentHash === next.contentHash &&
    last.eventType === next.eventType &&
    last.mode === next.mode &&
    (last.source ?? "spiderflow") === next.source &&
    (last.region ?? null) === next.region
  );
}

function isDuplicateAnswer(body: unknown): boolean {
  return body !== null && typeof body === "object" && (body as { status?: unknown }).status === "duplicate";
}
