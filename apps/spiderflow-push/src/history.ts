import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PushConfigError } from "./errors.js";
import type { HistoryRecord, OutcomeRecord } from "./types.js";

/** How many messages (pushes, each an outcome plus its attempts) the history keeps. */
export const HISTORY_MAX_MESSAGES = 1000;

/** Default history file, relative to the working directory. */
export const DEFAULT_HISTORY_FILE = "./data/push-history.jsonl";

/** The parsed history file. */
export interface HistoryContents {
  /** Oldest first, as written. */
  records: HistoryRecord[];
  /** Lines that could not be read (a torn write after a crash); skipped, not fatal. */
  skippedLines: number;
  /** The file does not end with a newline (its last line is torn). */
  tornTail: boolean;
}

function isHistoryRecord(value: unknown): value is HistoryRecord {
  if (value === null || typeof value !== "object") return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === "attempt" || kind === "outcome";
}

/**
 * Reads a history file; a missing file is an empty history. An unreadable one (a directory, no
 * permission) throws {@link PushConfigError} naming `PUSH_HISTORY_FILE`.
 */
export async function readHistoryFile(file: string): Promise<HistoryContents> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { records: [], skippedLines: 0, tornTail: false };
    throw unusableHistory(file, "read", error);
  }
  const records: HistoryRecord[] = [];
  let skippedLines = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isHistoryRecord(value)) records.push(value);
      else skippedLines++;
    } catch {
      skippedLines++;
    }
  }
  return { records, skippedLines, tornTail: text.length > 0 && !text.endsWith("\n") };
}

function unusableHistory(file: string, action: "read" | "write", error: unknown): PushConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new PushConfigError(
    "PUSH_HISTORY_FILE",
    `cannot ${action} the push history ${file} (${code}); set PUSH_HISTORY_FILE (or historyFile) to a writable file`,
  );
}

/** Whether a record is an outcome the receiver holds (delivered, or answered as a duplicate). */
export function isHeldByReceiver(record: HistoryRecord | undefined): record is OutcomeRecord {
  return record?.kind === "outcome" && (record.status === "delivered" || record.status === "duplicate");
}

/**
 * The records of the newest `max` messages (everything after the (max+1)-th newest outcome), plus,
 * before them, each receiver's newest held outcome when it is older: skip-unchanged reads the
 * last delivered content hash from the history, so 1,000 skipped pushes must not erase it.
 */
function lastMessages(records: HistoryRecord[], max: number): HistoryRecord[] {
  let outcomes = 0;
  let start = 0;
  for (let index = records.length - 1; index >= 0; index--) {
    if (records[index]?.kind === "outcome" && ++outcomes > max) {
      start = index + 1;
      break;
    }
  }
  const kept = records.slice(start);
  const covered = new Set(kept.filter(isHeldByReceiver).map((record) => record.receiverUrl));
  const carried: OutcomeRecord[] = [];
  for (let index = start - 1; index >= 0; index--) {
    const record = records[index];
    if (isHeldByReceiver(record) && !covered.has(record.receiverUrl)) {
      covered.add(record.receiverUrl);
      carried.unshift(record);
    }
  }
  return [...carried, ...kept];
}

function countOutcomes(records: readonly HistoryRecord[]): number {
  return records.reduce((count, record) => count + (record.kind === "outcome" ? 1 : 0), 0);
}

/**
 * A durable JSONL push history: one line per attempt and per outcome, bounded to the last
 * {@link HISTORY_MAX_MESSAGES} messages. Appends are single `write`s of whole lines; when the
 * file is over the bound it is rewritten (temp file + rename, so a crash leaves the old or the new).
 */
export class PushHistoryFile {
  readonly file: string;
  readonly maxMessages: number;
  #needsNewline: boolean | undefined;
  #outcomes: number | undefined;

  constructor(file: string, maxMessages: number = HISTORY_MAX_MESSAGES) {
    this.file = file;
    this.maxMessages = maxMessages;
  }

  /** Re-reads the file (another process may have appended). */
  async read(): Promise<HistoryContents> {
    const contents = await readHistoryFile(this.file);
    this.#needsNewline = contents.tornTail;
    this.#outcomes = countOutcomes(contents.records);
    return contents;
  }

  /** The newest delivered (or duplicate, i.e. already held) outcome for a receiver URL. */
  async lastDelivered(receiverUrl: string): Promise<OutcomeRecord | undefined> {
    const { records } = await this.read();
    return records.findLast(
      (record): record is OutcomeRecord => isHeldByReceiver(record) && record.receiverUrl === receiverUrl,
    );
  }

  /** Appends one record; compacts the file when it holds more than the bound. */
  async append(record: HistoryRecord): Promise<void> {
    if (this.#needsNewline === undefined) await this.read();
    // After a torn write the last line has no newline: start a fresh line so this record stays whole.
    const prefix = this.#needsNewline ? "\n" : "";
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, `${prefix}${JSON.stringify(record)}\n`, "utf8");
    } catch (error) {
      throw unusableHistory(this.file, "write", error);
    }
    this.#needsNewline = false;
    if (record.kind === "outcome") {
      this.#outcomes = (this.#outcomes ?? 0) + 1;
      if (this.#outcomes > this.maxMessages) await this.compact();
    }
  }

  /** Rewrites the file with the last `maxMessages` messages (torn lines dropped). */
  async compact(): Promise<void> {
    const { records } = await readHistoryFile(this.file);
    const kept = lastMessages(records, this.maxMessages);
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, kept.map((record) => `${JSON.stringify(record)}\n`).join(""), "utf8");
    await rename(temporary, this.file);
    this.#needsNewline = false;
    this.#outcomes = countOutcomes(kept);
  }
}

/** Options of {@link getPushHistory}. */
export interface PushHistoryQuery {
  /** The history file; default {@link DEFAULT_HISTORY_FILE}. */
  historyFile?: string;
  /** Most records to return (newest first); default 50. */
  limit?: number;
}

/** The history's records, newest first. */
export async function getPushHistory(query: PushHistoryQuery = {}): Promise<HistoryRecord[]> {
  const { records } = await readHistoryFile(query.historyFile ?? DEFAULT_HISTORY_FILE);
  return records.reverse().slice(0, query.limit ?? 50);
}

/** Totals over the retained history (the last {@link HISTORY_MAX_MESSAGES} messages). */
export interface PushStatistics {
  /** Pushes (outcomes), skipped ones included. */
  totalPushes: number;
  delivered: number;
  duplicate: number;
  skipped: number;
  refused: number;
  gaveUp: number;
  /** HTTP attempts made. */
  attempts: number;
  /** (delivered + duplicate) / pushes that were sent; null when none was sent. */
  successRate: number | null;
  lastPush: OutcomeRecord | null;
  /** The newest push the receiver holds (delivered or duplicate). */
  lastSuccess: OutcomeRecord | null;
  /** Sum of node counts over pushes the receiver holds (delivered or duplicate). */
  nodesPushed: number;
  /** Body bytes sent over all attempts. */
  bytesSent: number;
  /** Unreadable lines skipped while reading. */
  skippedLines: number;
}

/** Statistics over the history file. */
export async function getPushStatistics(historyFile: string = DEFAULT_HISTORY_FILE): Promise<PushStatistics> {
  const { records, skippedLines } = await readHistoryFile(historyFile);
  const stats: PushStatistics = {
    totalPushes: 0,
    delivered: 0,
    duplicate: 0,
    skipped: 0,
    refused: 0,
    gaveUp: 0,
    attempts: 0,
    successRate: null,
    lastPush: null,
    lastSuccess: null,
    nodesPushed: 0,
    bytesSent: 0,
    skippedLines,
  };
  for (const record of records) {
    if (record.kind === "attempt") {
      stats.attempts++;
      stats.bytesSent += record.bytes;
      continue;
    }
    stats.totalPushes++;
    stats.lastPush = record;
    switch (record.status) {
      case "delivered":
        stats.delivered++;
        stats.nodesPushed += record.nodeCount;
        stats.lastSuccess = record;
        break;
      case "duplicate":
        // The receiver already held this message (an earlier attempt's answer was lost): it was pushed.
        stats.duplicate++;
        stats.nodesPushed += record.nodeCount;
        stats.lastSuccess = record;
        break;
      case "skipped":
        stats.skipped++;
        break;
      case "refused":
        stats.refused++;
        break;
      case "gave_up":
        stats.gaveUp++;
        break;
    }
  }
  const sent = stats.totalPushes - stats.skipped;
  stats.successRate = sent === 0 ? null : (stats.delivered + stats.duplicate) / sent;
  return stats;
}
