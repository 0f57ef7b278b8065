import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  getPushHistory,
  getPushStatistics,
  HISTORY_MAX_MESSAGES,
  type OutcomeRecord,
  PushHistoryFile,
  readHistoryFile,
} from "../src/index.js";
import { makeTempDir } from "./helpers.js";

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => dir.remove());

function outcome(index: number, status: OutcomeRecord["status"] = "delivered"): OutcomeRecord {
  return {
    kind: "outcome",
    at: new Date(1_700_000_000_000 + index * 1000).toISOString(),
    deliveryId: `d-${index}`,
    receiverUrl: "http://127.0.0.1:8002/webhook/nodes-update",
    eventType: "nodes_updated",
    mode: "delta",
    nodeCount: 10,
    contentHash: `h${index}`,
    status,
    httpStatus: status === "gave_up" ? null : 200,
    durationMs: 5,
    bytes: 100,
    attempts: 1,
    error: null,
  };
}

describe("push history file", () => {
  it("skips a torn last line and keeps the next record whole", async () => {
    const file = join(dir.path, "h.jsonl");
    await writeFile(file, `${JSON.stringify(outcome(1))}\n{"kind":"outcome","at":"2026-`);
    const history = new PushHistoryFile(file);
    const before = await history.read();
    expect(before.records).toHaveLength(1);
    expect(before.skippedLines).toBe(1);
    expect(before.tornTail).toBe(true);
    await history.append(outcome(2));
    const after = await readHistoryFile(file);
    expect(after.records.map((r) => r.deliveryId)).toEqual(["d-1", "d-2"]);
    expect(after.skippedLines).toBe(1);
    expect((await getPushStatistics(file)).delivered).toBe(2);
  });

  it(`is bounded to the last ${HISTORY_MAX_MESSAGES} messages, attempts included`, async () => {
    const file = join(dir.path, "h.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < HISTORY_MAX_MESSAGES; i++) {
      lines.push(
        JSON.stringify({ ...outcome(i), kind: "attempt", attempt: 1, retryInMs: null, deliveryId: `d-${i}` }),
        JSON.stringify(outcome(i)),
      );
    }
    await writeFile(file, `${lines.join("\n")}\n`);
    const history = new PushHistoryFile(file);
    for (let i = HISTORY_MAX_MESSAGES; i < HISTORY_MAX_MESSAGES + 5; i++) {
      await history.append({ ...outcome(i), kind: "attempt", attempt: 1, retryInMs: null } as never);
      await history.append(outcome(i));
    }
    const { records } = await readHistoryFile(file);
    const outcomes = records.filter((r) => r.kind === "outcome");
    expect(outcomes).toHaveLength(HISTORY_MAX_MESSAGES);
    expect(outcomes[0]?.deliveryId).toBe("d-5");
    expect(outcomes.at(-1)?.deliveryId).toBe(`d-${HISTORY_MAX_MESSAGES + 4}`);
    // The attempts of dropped messages went with them.
    expect(records[0]).toMatchObject({ kind: "attempt", deliveryId: "d-5" });
    expect(records).toHaveLength(2 * HISTORY_MAX_MESSAGES);
  });

  it("keeps each receiver's last delivered record through compaction (skip-unchanged survives)", async () => {
    const file = join(dir.path, "h.jsonl");
    const history = new PushHistoryFile(file, 3);
    const other = "http://127.0.0.1:9999/webhook/nodes-update";
    await history.append(outcome(1));
    await history.append({ ...outcome(2), receiverUrl: other });
    await history.append(outcome(3, "refused"));
    // More skipped pushes than the bound holds messages.
    for (let i = 4; i < 10; i++) await history.append({ ...outcome(i, "skipped"), deliveryId: null });
    const { records } = await readHistoryFile(file);
    expect(records.filter((r) => r.kind === "outcome")).toHaveLength(5); // 3 newest + 2 carried
    expect((await history.lastDelivered(outcome(1).receiverUrl))?.contentHash).toBe("h1");
    expect((await history.lastDelivered(other))?.contentHash).toBe("h2");
    // Carried records are not counted twice: the next append compacts back to the same shape.
    await history.append({ ...outcome(10, "skipped"), deliveryId: null });
    expect((await readHistoryFile(file)).records).toHaveLength(5);
  });

  it("says which file is unusable when the history cannot be written", async () => {
    const blocker = join(dir.path, "not-a-dir");
    await writeFile(blocker, "");
    const history = new PushHistoryFile(join(blocker, "h.jsonl"));
    await expect(history.append(outcome(1))).rejects.toThrow(
      /cannot (read|write) the push history .*not-a-dir/,
    );
  });

  it("reads a missing file as an empty history", async () => {
    expect(await getPushHistory({ historyFile: join(dir.path, "none.jsonl") })).toEqual([]);
    const stats = await getPushStatistics(join(dir.path, "none.jsonl"));
    expect(stats).toMatchObject({ totalPushes: 0, successRate: null, lastPush: null });
  });

  it("lists newest first with a limit, and computes statistics", async () => {
    const file = join(dir.path, "h.jsonl");
    const history = new PushHistoryFile(file);
    await history.append(outcome(1));
    await history.append(outcome(2, "gave_up"));
    await history.append(outcome(3, "skipped"));
    await history.append(outcome(4, "duplicate"));
    await appendFile(file, "not json at all\n");
    const newest = await getPushHistory({ historyFile: file, limit: 2 });
    expect(newest.map((r) => r.deliveryId)).toEqual(["d-4", "d-3"]);
    const stats = await getPushStatistics(file);
    expect(stats).toMatchObject({
      totalPushes: 4,
      delivered: 1,
      duplicate: 1,
      skipped: 1,
      gaveUp: 1,
      successRate: 2 / 3,
      nodesPushed: 20,
      skippedLines: 1,
    });
    expect(stats.lastPush?.deliveryId).toBe("d-4");
    expect(stats.lastSuccess?.deliveryId).toBe("d-4");
    expect(await readFile(file, "utf8")).toContain("not json at all");
  });
});
