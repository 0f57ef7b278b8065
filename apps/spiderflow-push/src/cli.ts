#!/usr/bin/env node
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { EVENT_TYPES, type EventType, type Mode } from "@viper/protocol";
import { EXIT, UsageError } from "./cli-errors.js";
import { readJsonInput } from "./commands/read-input.js";
import { startFeedServer } from "./commands/serve-feed.js";
import { testWebhookConnection } from "./connection.js";
import { DEFAULT_WEBHOOK_URL, parseSenderEnv, processEnvironment, requireSecret } from "./env.js";
import { PayloadError, PushConfigError } from "./errors.js";
import {
  formatBytes,
  formatConnection,
  formatHistoryRecord,
  formatOutcome,
  formatStatistics,
} from "./format.js";
import { getPushHistory, getPushStatistics } from "./history.js";
import { prepareFromDocument } from "./payload.js";
import { createPusher } from "./pusher.js";
import type { PushStatus } from "./types.js";

/** What the CLI talks to; `main` wires the real process, tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: Readable;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when a long-running command (serve-feed) should stop. */
  shutdown: Promise<unknown>;
}

const EXIT_BY_STATUS: Record<PushStatus, number> = {
  delivered: EXIT.ok,
  duplicate: EXIT.ok,
  skipped: EXIT.ok,
  refused: EXIT.refused,
  gave_up: EXIT.gaveUp,
};

const HELP_FOOTER = `
Environment:
  VIPER_WEBHOOK_URL    webhook URL (default ${DEFAULT_WEBHOOK_URL})
  WEBHOOK_SECRET       the store's secret; required for push, test-connection, serve-feed
  PUSH_HISTORY_FILE    push history, JSONL (default ./data/push-history.jsonl)
  PUSH_RETRIES         retries after the first attempt (default 3)
  PUSH_RETRY_DELAY_MS  backoff base in ms, doubling per retry (default 5000)
  PUSH_TIMEOUT_MS      per-attempt timeout in ms (default 15000)

Exit codes: 0 delivered, duplicate or skipped as unchanged; 1 refused by the receiver;
2 usage or configuration error; 3 gave up after retries (or no answer).`;

function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return Number(value);
  };
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new InvalidArgumentError("must be a port 0..65535.");
  return Number(value);
}

function buildProgram(io: CliIo, setExit: (code: number) => void) {
  const log = (line: string) => io.stderr(`${line}\n`);
  const print = (text: string) => io.stdout(`${text}\n`);
  const senderEnv = () => parseSenderEnv(io.env);

  const program = new Command()
    .name("spiderflow-push")
    .description(
      "Push SpiderFlow nodes to viper-store (signed webhook), inspect the push history, serve the feed.",
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText("after", HELP_FOOTER);

  program
    .command("push")
    .description("push a v1 payload, or a nodes.json array, from a file (or - for stdin)")
    .argument("<file>", "JSON file, or - for stdin")
    .addOption(new Option("--event-type <type>", "event type").choices(EVENT_TYPES))
    .addOption(
      new Option("--mode <mode>", "delta (upsert only) or snapshot (full set of this source)").choices([
        "delta",
        "snapshot",
      ] as const),
    )
    .option("--source <id>", "producer id (default: the payload's, else spiderflow)")
    .option("--region <name>", "where the measurements were taken")
    .option("--force", "send even when unchanged since the last delivery", false)
    .option("--json", "print the outcome as JSON", false)
    .action(async (file, options) => {
      const env = senderEnv();
      const secret = requireSecret(env, "push");
      const pusher = createPusher({
        url: env.webhookUrl,
        secrets: secret,
        retries: env.retries,
        retryDelayMs: env.retryDelayMs,
        timeoutMs: env.timeoutMs,
        historyFile: env.historyFile,
        onAttempt: (attempt) =>
          log(
            `attempt ${attempt.attempt}: ${attempt.httpStatus ?? "no answer"}${attempt.error ? ` (${attempt.error})` : ""} in ${attempt.durationMs} ms` +
              (attempt.retryInMs === undefined
                ? ""
                : `; retrying in ${(attempt.retryInMs / 1000).toFixed(1)} s`),
          ),
      });
      const input = await readJsonInput(file, io.stdin, log);
      const prepared = prepareFromDocument(input.document, {
        ...(options.eventType ? { eventType: options.eventType as EventType } : {}),
        ...(options.mode ? { mode: options.mode as Mode } : {}),
        ...(options.source ? { source: options.source } : {}),
        ...(options.region ? { region: options.region } : {}),
      });
      const { payload } = prepared;
      log(
        `${file === "-" ? "stdin" : file}: ${formatBytes(input.bytes)}, ${payload.nodes.length} nodes` +
          `${prepared.rejected.length ? `, ${prepared.rejected.length} rejected` : ""} (${payload.event_type}, ${payload.mode}) → ${pusher.url}`,
      );
      for (const rejection of prepared.rejected.slice(0, 20))
        log(`  rejected node ${rejection.index}: ${rejection.reason}`);
      if (prepared.rejected.length > 20) log(`  … and ${prepared.rejected.length - 20} more rejected`);
      for (const warning of prepared.warnings.slice(0, 20)) log(`  warning: ${warning}`);
      const outcome = await pusher.pushPrepared(prepared, { force: options.force });
      print(options.json ? JSON.stringify(outcome, null, 2) : formatOutcome(outcome));
      setExit(EXIT_BY_STATUS[outcome.status]);
    });

  program
    .command("test-connection")
    .description("send a signed test request to the receiver: reachability, signature, clock skew")
    .option("--json", "print the result as JSON", false)
    .action(async (options) => {
      const env = senderEnv();
      const result = await testWebhookConnection({
        url: env.webhookUrl,
        secrets: requireSecret(env, "test-connection"),
        timeoutMs: env.timeoutMs,
      });
      print(options.json ? JSON.stringify(result, null, 2) : formatConnection(result));
      if (result.warning) log(`warning: ${result.warning}`);
      setExit(result.ok ? EXIT.ok : result.httpStatus === undefined ? EXIT.gaveUp : EXIT.refused);
    });

  program
    .command("history")
    .description("show the push history, newest first")
    .option("--limit <n>", "most records to show", positiveInteger("--limit", 100_000), 50)
    .option("--json", "print a JSON array of records", false)
    .action(async (options) => {
      const records = await getPushHistory({ historyFile: senderEnv().historyFile, limit: options.limit });
      if (options.json) print(JSON.stringify(records, null, 2));
      else print(records.length === 0 ? "no pushes yet" : records.map(formatHistoryRecord).join("\n"));
    });

  program
    .command("stats")
    .description("push statistics over the retained history")
    .option("--json", "print the statistics as JSON", false)
    .action(async (options) => {
      const stats = await getPushStatistics(senderEnv().historyFile);
      if (stats.skippedLines > 0) log(`warning: skipped ${stats.skippedLines} unreadable history line(s)`);
      print(options.json ? JSON.stringify(stats, null, 2) : formatStatistics(stats));
    });

  program
    .command("serve-feed")
    .description("serve a JSON file as the signed feed at /api/nodes/feed (re-read when it changes)")
    .argument("<file>", "v1 payload or nodes.json array")
    .option("--port <port>", "port (0 = any free port)", port, 8001)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .action(async (file, options) => {
      const env = senderEnv();
      const server = await startFeedServer({
        file,
        port: options.port,
        host: options.host,
        secrets: requireSecret(env, "serve-feed"),
        log,
      });
      log(`serving ${file} at ${server.url}`);
      await io.shutdown;
      await server.close();
      log("feed stopped");
    });

  return program;
}

/** Runs the CLI and returns its exit code; never exits the process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every other parse error is a usage error (commander said why).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof PushConfigError || error instanceof UsageError || error instanceof PayloadError) {
      io.stderr(`spiderflow-push: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** The process entry point: the only place that exits. */
async function main(): Promise<void> {
  const shutdown = new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  let code: number;
  try {
    code = await runCli(process.argv.slice(2), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      stdin: process.stdin,
      env: processEnvironment(),
      shutdown,
    });
  } catch (error) {
    process.stderr.write(`spiderflow-push: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    code = 1;
  }
  // Let piped stdout drain before exiting, so `--json` output is never cut short.
  process.stdout.write("", () => process.exit(code));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
