import type { ConnectionTestResult } from "./connection.js";
import type { PushStatistics } from "./history.js";
import type { HistoryRecord, PushOutcome } from "./types.js";

/** One line saying what became of a push. */
export function formatOutcome(outcome: PushOutcome): string {
  const attempts = `${outcome.attempts.length} attempt${outcome.attempts.length === 1 ? "" : "s"}`;
  const size = `${formatBytes(outcome.bytes)}${outcome.gzip ? " gzip" : ""}`;
  switch (outcome.status) {
    case "delivered":
    case "duplicate":
      return `${outcome.status}: ${outcome.nodeCount} nodes to ${outcome.receiverUrl} (delivery ${outcome.deliveryId}, HTTP ${outcome.httpStatus}, ${attempts}, ${size}, ${outcome.durationMs} ms)`;
    case "skipped":
      return `skipped: ${outcome.reason}`;
    case "refused":
      return `refused by ${outcome.receiverUrl}: ${outcome.reason} (delivery ${outcome.deliveryId})`;
    case "gave_up":
      return `${outcome.reason} (delivery ${outcome.deliveryId}, ${outcome.durationMs} ms)`;
  }
}

export function formatHistoryRecord(record: HistoryRecord): string {
  const http = record.httpStatus === null ? "---" : String(record.httpStatus);
  if (record.kind === "attempt") {
    const retry = record.retryInMs === null ? "" : `, retry in ${record.retryInMs} ms`;
    return `${record.at}  attempt ${record.attempt}  ${http}  ${record.deliveryId}  ${record.nodeCount} nodes  ${formatBytes(record.bytes)}  ${record.durationMs} ms${record.error ? `  ${record.error}` : ""}${retry}`;
  }
  return `${record.at}  ${record.status.toUpperCase()}  ${http}  ${record.deliveryId ?? "(not sent)"}  ${record.eventType} ${record.nodeCount} nodes  ${record.attempts} attempt(s)  ${record.receiverUrl}${record.error ? `  ${record.error}` : ""}`;
}

export function formatStatistics(stats: PushStatistics): string {
  const rate = stats.successRate === null ? "n/a" : `${(stats.successRate * 100).toFixed(1)}%`;
  const lines = [
    `pushes: ${stats.totalPushes} (delivered ${stats.delivered}, duplicate ${stats.duplicate}, skipped ${stats.skipped}, refused ${stats.refused}, gave up ${stats.gaveUp})`,
    `attempts: ${stats.attempts}, success rate: ${rate}, nodes pushed: ${stats.nodesPushed}, bytes sent: ${formatBytes(stats.bytesSent)}`,
    `last push: ${stats.lastPush ? `${stats.lastPush.at} ${stats.lastPush.status}` : "never"}`,
    `last success: ${stats.lastSuccess ? `${stats.lastSuccess.at} (${stats.lastSuccess.deliveryId})` : "never"}`,
  ];
  return lines.join("\n");
}

export function formatConnection(result: ConnectionTestResult): string {
  if (!result.ok) return `failed: ${result.url}: ${result.error ?? "unknown error"} (${result.latencyMs} ms)`;
  const skew = result.clockSkewS === undefined ? "" : `, clock skew ${result.clockSkewS} s`;
  return `connected: ${result.url} (${result.receiver ?? "receiver"}, protocol v${result.protocolVersion ?? "?"}, ${result.latencyMs} ms${skew})`;
}

/** A byte count for people: B, KiB or MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
