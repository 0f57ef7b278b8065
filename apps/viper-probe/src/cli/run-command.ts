/**
 * `viper-probe run`: a remote prober. Reads nodes (a store's /api/nodes or a node file), checks
 * them through the node here, and pushes the results as signed `measurements` with this region
 * (DESIGN 7), retrying as spiderflow-push does.
 */
import type { Command } from "@commander-js/extra-typings";
import { type CheckResult, checkNodes } from "@viper/probe";
import { PROTOCOLS } from "@viper/protocol";
import { createPusher, PushConfigError, type PushOutcome } from "@viper/spiderflow-push";
import { readCheckEnv, readProberSecret } from "../env.js";
import { NodeFileError, readNodes, type SourceNode, StoreReadError } from "../node-source.js";
import { parseOption } from "./check-command.js";
import { type CliIo, EXIT_FAILED, EXIT_GAVE_UP, EXIT_OK, UsageError } from "./io.js";

export interface RunSummary {
  region: string;
  checked: number;
  alive: number;
  dead: number;
  unsupported: number;
  /** Checks that decided nothing (e.g. the core failed to start): not pushed. */
  undetermined: number;
  /** Source entries that were not share links we can read. */
  skipped: number;
  /** Measurements the store applied (sent minus those it rejected). */
  pushed: number;
  rejected: number;
  push_status: PushOutcome["status"] | "nothing_to_push";
  delivery_id: string | null;
  reason: string | null;
}

export function addRunCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("run")
    .description("check nodes here and push the results to a store as signed measurements")
    .requiredOption("--from <source>", "the store's base URL (pages through /api/nodes) or a node file")
    .requiredOption("--push <url>", "the store's webhook URL, e.g. http://store:8002/webhook/nodes-update")
    .requiredOption("--region <name>", "where this prober runs; the store keeps each region apart")
    .option("--concurrency <n>", "checks in flight", "16")
    .option("--protocol <list>", "only these protocols (comma list, e.g. vmess,trojan)")
    .option("--source <name>", "producer id of the measurements", "viper-probe")
    .option("--timeout <ms>", "per check (default PROBE_TIMEOUT_MS or 5000)")
    .option("--retries <n>", "push retries after the first attempt", "3")
    .option("--retry-delay <ms>", "first retry's wait, doubling after", "5000")
    .option("--json", "print the summary as JSON alone")
    .action(async (opts) => {
      const env = readCheckEnv(io.env);
      const secret = readProberSecret(io.env);
      const region = opts.region.trim();
      if (region === "") throw new UsageError("--region must not be empty");
      const concurrency = wholeNumber("--concurrency", opts.concurrency, 1, 1024);
      const retries = wholeNumber("--retries", opts.retries, 0, 100);
      const retryDelayMs = wholeNumber("--retry-delay", opts.retryDelay, 0, 3_600_000);
      const timeoutMs = opts.timeout === undefined ? env.timeoutMs : parseOption(opts.timeout);
      const protocols = opts.protocol === undefined ? undefined : protocolList(opts.protocol);

      let pusher: ReturnType<typeof createPusher>;
      try {
        pusher = createPusher({
          url: opts.push,
          secrets: secret,
          source: opts.source,
          region,
          retries,
          retryDelayMs,
          historyFile: null,
          onAttempt: (a) => {
            if (a.error) io.stderr(`viper-probe: push attempt ${a.attempt}: ${a.error}\n`);
          },
        });
      } catch (error) {
        if (error instanceof PushConfigError) throw new UsageError(error.message);
        throw error;
      }

      let source: Awaited<ReturnType<typeof readNodes>>;
      try {
        source = await readNodes(opts.from, protocols ? { protocols } : {});
      } catch (error) {
        if (error instanceof NodeFileError) throw new UsageError(error.message);
        if (error instanceof StoreReadError) {
          io.stderr(`viper-probe: ${error.message}\n`);
          setExit(EXIT_GAVE_UP);
          return;
        }
        throw error;
      }
      io.stderr(`viper-probe: checking ${source.nodes.length} node(s) from ${opts.from}\n`);

      const checkedAt = new Date();
      const results = await checkNodes(
        source.nodes.map((n) => n.link),
        {
          probeUrl: env.probeUrl,
          timeoutMs,
          v2rayBin: env.v2rayBin,
          concurrency,
          onNotice: (message) => io.stderr(`viper-probe: ${message}\n`),
        },
      );
      const measurements = toMeasurements(source.nodes, results, checkedAt);
      const summary: RunSummary = {
        region,
        checked: results.length,
        alive: results.filter((r) => r.ok === true).length,
        dead: results.filter((r) => r.ok === false).length,
        unsupported: results.filter((r) => r.method === "unsupported").length,
        undetermined: results.filter((r) => r.ok === null && r.method !== "unsupported").length,
        skipped: source.skipped,
        pushed: 0,
        rejected: 0,
        push_status: "nothing_to_push",
        delivery_id: null,
        reason: null,
      };
      let exit = EXIT_OK;
      if (measurements.length > 0) {
        const outcome = await pusher.push(measurements, { eventType: "measurements", timestamp: checkedAt });
        const refusedNodes = rejectedCount(outcome.response);
        summary.push_status = outcome.status;
        summary.delivery_id = outcome.deliveryId;
        summary.reason = outcome.reason ?? null;
        if (outcome.status === "delivered" || outcome.status === "duplicate") {
          summary.rejected = refusedNodes + outcome.rejected.length;
          summary.pushed = Math.max(0, outcome.nodeCount - refusedNodes);
        }
        if (outcome.status === "refused") exit = EXIT_FAILED;
        if (outcome.status === "gave_up") exit = EXIT_GAVE_UP;
      }
      io.stdout(opts.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
      setExit(exit);
    });
}

/**
 * One measurement per decided check: a pass is availability 100 with its latency, a failure
 * availability 0. Unsupported and undetermined checks say nothing about the node: not sent.
 */
export function toMeasurements(nodes: readonly SourceNode[], results: readonly CheckResult[], at: Date) {
  const testedAt = at.toISOString();
  return nodes.flatMap((node, i) => {
    const result = results[i];
    if (!result || result.ok === null) return [];
    return [
      {
        url: node.url,
        latency: result.ok ? result.latencyMs : null,
        availability: result.ok ? 100 : 0,
        tested_at: testedAt,
      },
    ];
  });
}

function rejectedCount(response: unknown): number {
  const rejected = (response as { rejected?: unknown } | undefined)?.rejected;
  return Array.isArray(rejected) ? rejected.length : 0;
}

function formatSummary(s: RunSummary): string {
  const lines = [
    `checked ${s.checked}  alive ${s.alive}  dead ${s.dead}  unsupported ${s.unsupported}` +
      (s.undetermined ? `  undetermined ${s.undetermined}` : "") +
      (s.skipped ? `  skipped ${s.skipped}` : ""),
    `pushed ${s.pushed}` +
      (s.rejected ? `  rejected ${s.rejected}` : "") +
      `  region ${s.region}  (${s.push_status.replace(/_/g, " ")}${s.delivery_id ? `, ${s.delivery_id}` : ""})`,
  ];
  if (s.reason) lines.push(`reason  ${s.reason}`);
  return lines.join("\n");
}

function wholeNumber(option: string, raw: string, min: number, max: number): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new UsageError(
      `${option} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function protocolList(raw: string): string[] {
  const list = raw
    .toLowerCase()
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const unknown = list.find((p) => !(PROTOCOLS as readonly string[]).includes(p));
  if (list.length === 0 || unknown !== undefined) {
    throw new UsageError(
      `--protocol: ${unknown === undefined ? "empty list" : JSON.stringify(unknown)}; give a comma list of ${PROTOCOLS.join(", ")}`,
    );
  }
  return list;
}
