import { HISTORY_MAX_MESSAGES, isHeldByReceiver } from "./history.js";
import type { HistoryRecord, OutcomeRecord } from "./types.js";

/** Where a pusher keeps its history: the JSONL file, or memory when the caller wants no file. */
export interface HistorySink {
  lastDelivered(receiverUrl: string): Promise<OutcomeRecord | undefined>;
  append(record: HistoryRecord): Promise<void>;
}

/** In-memory history (`historyFile: null`): skip-unchanged holds for the life of the process only. */
export class MemoryHistory implements HistorySink {
  readonly records: HistoryRecord[] = [];

  async lastDelivered(receiverUrl: string): Promise<OutcomeRecord | undefined> {
    return this.#held.get(receiverUrl);
  }

  /** The newest held outcome per receiver, kept apart so trimming the records never loses it. */
  readonly #held = new Map<string, OutcomeRecord>();

  async append(record: HistoryRecord): Promise<void> {
    this.records.push(record);
    if (isHeldByReceiver(record)) this.#held.set(record.receiverUrl, record);
    const outcomes = this.records.filter((entry) => entry.kind === "outcome").length;
    if (outcomes > HISTORY_MAX_MESSAGES) {
      const firstOutcome = this.records.findIndex((entry) => entry.kind === "outcome");
      this.records.splice(0, firstOutcome + 1);
    }
  }
}
