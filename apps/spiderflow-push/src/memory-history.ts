import { HISTORY_MAX_MESSAGES } from "./history.js";
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
    return this.records.findLast(
      (record): record is OutcomeRecord =>
        record.kind === "outcome" &&
        record.receiverUrl === receiverUrl &&
        (record.status === "delivered" || record.status === "duplicate"),
    );
  }

  async append(record: HistoryRecord): Promise<void> {
    this.records.push(record);
    const outcomes = this.records.filter((entry) => entry.kind === "outcome").length;
    if (outcomes > HISTORY_MAX_MESSAGES) {
      const firstOutcome = this.records.findIndex((entry) => entry.kind === "outcome");
      this.records.splice(0, firstOutcome + 1);
    }
  }
}
