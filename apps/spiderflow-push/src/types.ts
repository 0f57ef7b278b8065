import type { EventType, Mode, NodeRejection } from "@viper/protocol";

/** What became of one push. */
export type PushStatus = "delivered" | "duplicate" | "skipped" | "refused" | "gave_up";

/** One HTTP attempt of a push. */
export interface PushAttempt {
  /** 1-based attempt number. */
  attempt: number;
  /** ISO 8601 UTC time the attempt started. */
  at: string;
  /** HTTP status of the answer; absent when no answer arrived (network error, timeout). */
  httpStatus?: number;
  /** Why the attempt failed (network error, timeout, the receiver's reason). */
  error?: string;
  durationMs: number;
  /** Body bytes on the wire (after gzip). */
  bytes: number;
  /** Wait before the next attempt, when there is one. */
  retryInMs?: number;
}

/** The result of {@link Pusher.push}: the final status and every attempt that led to it. */
export interface PushOutcome {
  status: PushStatus;
  /** The message id (`webhook-id`, a UUIDv7) used for every attempt; null when nothing was sent. */
  deliveryId: string | null;
  receiverUrl: string;
  eventType: EventType;
  mode: Mode;
  /** The payload's producer id and region. */
  source: string;
  region: string | null;
  /** HTTP status of the last answer, when one arrived. */
  httpStatus?: number;
  /** The receiver's last answer (parsed JSON, or text when it was not JSON). */
  response?: unknown;
  /** Why the push was skipped, refused or given up. */
  reason?: string;
  attempts: PushAttempt[];
  /** `contentHash` of the normalised nodes (DESIGN 3.5). */
  contentHash: string;
  /** Nodes sent (after normalisation; rejected ones are not sent). */
  nodeCount: number;
  /** Input nodes that could not be normalised, with their index and reason. Not sent. */
  rejected: NodeRejection[];
  /** Normalisation warnings (e.g. a naive `tested_at` ignored). */
  warnings: string[];
  /** Body bytes on the wire (gzip when `gzip`). 0 when skipped. */
  bytes: number;
  /** Uncompressed JSON bytes of the body. */
  jsonBytes: number;
  gzip: boolean;
  /** From the start of the push to its outcome, backoff included. */
  durationMs: number;
}

/** A history line for one attempt. */
export interface AttemptRecord {
  kind: "attempt";
  at: string;
  deliveryId: string;
  receiverUrl: string;
  eventType: EventType;
  nodeCount: number;
  contentHash: string;
  attempt: number;
  httpStatus: number | null;
  durationMs: number;
  bytes: number;
  error: string | null;
  retryInMs: number | null;
}

/** A history line for the outcome of one push (one message). */
export interface OutcomeRecord {
  kind: "outcome";
  at: string;
  deliveryId: string | null;
  receiverUrl: string;
  eventType: EventType;
  mode: Mode;
  /** Absent in records written before skip-unchanged compared them. */
  source?: string;
  region?: string | null;
  nodeCount: number;
  contentHash: string;
  status: PushStatus;
  httpStatus: number | null;
  durationMs: number;
  bytes: number;
  attempts: number;
  error: string | null;
}

/** One line of the push history file: an attempt or an outcome. */
export type HistoryRecord = AttemptRecord | OutcomeRecord;
