/**
 * The proxy core driver: one v2ray process for a batch of nodes, one local HTTP-proxy inbound per
 * node. The configuration goes in on stdin, so no temporary file exists to be left behind; the
 * process is registered so that it dies with us (child-registry.ts).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import type { ShareLink } from "@viper/protocol";
import { adoptChild } from "./child-registry.js";
import { leaseLoopbackPorts } from "./ports.js";
import { buildCoreConfig } from "./v2ray-config.js";

export interface CoreEndpoint {
  link: ShareLink;
  /** Local port of the node's inbound (HTTP proxy, CONNECT supported). */
  port: number;
  /** `http://127.0.0.1:<port>`, for undici's ProxyAgent. */
  proxyUrl: string;
}

export interface Core {
  pid: number;
  /** In the order of the links given to `startCore`. */
  endpoints: CoreEndpoint[];
  /** Milliseconds from spawn to the readiness line. */
  startupMs: number;
  /** False once the process has exited (on `close()` or on its own). */
  readonly running: boolean;
  /** How the process ended, when it did on its own; null while running or after `close()`. */
  readonly crash: string | null;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s) and frees its ports. Idempotent. */
  close(): Promise<void>;
}

export interface StartCoreOptions {
  v2rayBin: string;
  /** How long to wait for v2ray's "started" line. Default 15000. */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

export type CoreStartFailure = "spawn-failed" | "config-rejected" | "start-timeout";

export class CoreStartError extends Error {
  override name = "CoreStartError";
  constructor(
    readonly failure: CoreStartFailure,
    message: string,
    /** The core's last output lines. */
    readonly output: string,
  ) {
    super(message);
  }
}

/** v2ray prints this at level "warning" once every inbound listens. */
const READY_LINE = /V2Ray \S+ started/;
const OUTPUT_LINES_KEPT = 20;
const KILL_GRACE_MS = 2000;

export async function startCore(links: readonly ShareLink[], options: StartCoreOptions): Promise<Core> {
  if (links.length === 0) throw new TypeError("@viper/probe: startCore needs at least one link");
  options.signal?.throwIfAborted();
  const config = buildCoreConfig(links.map((link) => ({ link, port: 0 })));
  const lease = await leaseLoopbackPorts(links.length);
  if (options.signal?.aborted) {
    lease.release();
    throw options.signal.reason;
  }
  config.inbounds.forEach((inbound, i) => {
    inbound["port"] = lease.ports[i]!;
  });

  const started = performance.now();
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(options.v2rayBin, ["-config", "stdin:"], { stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    lease.release();
    throw new CoreStartError(
      "spawn-failed",
      `cannot start v2ray at ${options.v2rayBin}: ${String(error)}`,
      "",
    );
  }
  const output = new OutputTail(OUTPUT_LINES_KEPT);
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
  // EPIPE when v2ray dies before reading its config; the exit handler reports that.
  child.stdin.on("error", () => {});
  if (child.pid !== undefined) adoptChild(child);

  let exited = false;
  let closing = false;
  let crash: string | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      lease.release();
      if (!closing) crash = `v2ray exited (${signal ?? `code ${code}`}): ${output.text() || "no output"}`;
      resolve();
    });
  });

  try {
    await waitForReady(child, output, options);
  } catch (error) {
    closing = true;
    if (child.pid === undefined) {
      // Never spawned (ENOENT, EACCES): there will be no exit event to wait for.
      lease.release();
    } else {
      child.kill("SIGKILL");
      await exitPromise;
    }
    throw error;
  }
  const startupMs = performance.now() - started;

  const close = async () => {
    if (exited) return;
    closing = true;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    await exitPromise;
    clearTimeout(timer);
  };
  return {
    pid: child.pid!,
    endpoints: links.map((link, i) => ({
      link,
      port: lease.ports[i]!,
      proxyUrl: `http://127.0.0.1:${lease.ports[i]!}`,
    })),
    startupMs,
    get running() {
      return !exited;
    },
    get crash() {
      return crash;
    },
    close,
  };

  function writeConfig() {
    child.stdin.end(JSON.stringify(config));
  }
  async function waitForReady(
    proc: ChildProcessWithoutNullStreams,
    tail: OutputTail,
    opts: StartCoreOptions,
  ): Promise<void> {
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    const ac = new AbortController();
    const ready = new Promise<void>((resolve) => tail.onLine((line) => READY_LINE.test(line) && resolve()));
    const spawnError = once(proc, "error", { signal: ac.signal }).then(([error]) => {
      throw new CoreStartError(
        "spawn-failed",
        `cannot start v2ray at ${opts.v2rayBin}: ${String(error)}`,
        "",
      );
    });
    const exit = once(proc, "exit", { signal: ac.signal }).then(([code, signal]) => {
      throw new CoreStartError(
        "config-rejected",
        `v2ray exited before it was ready (${signal ?? `code ${code}`}): ${tail.text() || "no output"}`,
        tail.text(),
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CoreStartError(
              "start-timeout",
              `v2ray was not ready within ${timeoutMs} ms: ${tail.text()}`,
              tail.text(),
            ),
          ),
        timeoutMs,
      );
    });
    // `events.once` on an AbortSignal would miss an abort that already happened.
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(opts.signal?.reason);
      if (opts.signal?.aborted) onAbort();
      opts.signal?.addEventListener("abort", onAbort, { once: true, signal: ac.signal });
    });
    writeConfig();
    try {
      await Promise.race([ready, spawnError, exit, timeout, aborted]);
    } finally {
      clearTimeout(timer);
      ac.abort();
      // The losing `once` promises reject with AbortError when `ac` aborts; nobody awaits them.
      for (const p of [spawnError, exit, aborted]) p.catch(() => {});
    }
  }
}

/** The last lines a process printed, for error messages; notifies line listeners. */
class OutputTail {
  private lines: string[] = [];
  private partial = "";
  private listeners: ((line: string) => void)[] = [];
  constructor(private readonly keep: number) {}

  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString("utf8");
    const parts = text.split("\n");
    this.partial = (parts.pop() ?? "").slice(-2000);
    for (const raw of parts) {
      const line = raw.trimEnd();
      if (!line) continue;
      this.lines.push(line.slice(0, 500));
      if (this.lines.length > this.keep) this.lines.shift();
      for (const listener of this.listeners) listener(line);
    }
  }

  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  /** The lines that say something: v2ray's banner is dropped. */
  text(): string {
    return this.lines
      .filter((l) => !/^V2Ray \S+ \(|^A unified platform/.test(l))
      .slice(-5)
      .join(" | ");
  }
}
