/** Quick test: TCP connects to host:port, no payload (DESIGN.md section 7). */
import { lookup } from "node:dns/promises";
import { isIP, Socket } from "node:net";
import pLimit from "p-limit";
import { roundMs } from "./timing.js";

export interface TcpTarget {
  host: string;
  port: number;
}

export interface TcpProbeOptions {
  /** Connect attempts, one after another. Default 3. */
  attempts?: number;
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TcpAttempt {
  ok: boolean;
  /** Time to the completed handshake; null when the attempt failed. */
  latencyMs: number | null;
  error: string | null;
  /** errno-style code of a failure (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, …); null on success. */
  code: string | null;
}

export interface TcpProbeResult {
  ok: boolean;
  /** Median over the successful attempts; null when none succeeded. */
  latencyMs: number | null;
  /** Percent of successful attempts, 0..100. */
  availability: number;
  attempts: TcpAttempt[];
  /** Why the first failure happened (or DNS failed); null when every attempt succeeded. */
  error: string | null;
}

export const DEFAULT_TCP_ATTEMPTS = 3;
export const DEFAULT_TCP_TIMEOUT_MS = 5000;

/**
 * Connects `attempts` times. The host name is resolved once beforehand, so the latency is the
 * handshake alone, not DNS.
 */
export async function tcpProbe(target: TcpTarget, options: TcpProbeOptions = {}): Promise<TcpProbeResult> {
  const attempts = options.attempts ?? DEFAULT_TCP_ATTEMPTS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TCP_TIMEOUT_MS;
  if (!Number.isInteger(attempts) || attempts < 1) throw new TypeError("@viper/probe: attempts must be ≥ 1");
  options.signal?.throwIfAborted();

  let address: string;
  try {
    address = await resolveHost(target.host);
  } catch (error) {
    const code = errorCode(error);
    const message = `cannot resolve ${target.host}: ${code}`;
    const failed = Array.from({ length: attempts }, () => ({
      ok: false,
      latencyMs: null,
      error: message,
      code,
    }));
    return { ok: false, latencyMs: null, availability: 0, attempts: failed, error: message };
  }

  const results: TcpAttempt[] = [];
  for (let i = 0; i < attempts; i++) {
    results.push(await tcpConnectOnce(address, target.port, timeoutMs, options.signal));
  }
  const latencies = results.flatMap((a) => (a.latencyMs === null ? [] : [a.latencyMs]));
  return {
    ok: latencies.length > 0,
    latencyMs: latencies.length > 0 ? roundMs(median(latencies)) : null,
    availability: Math.round((latencies.length / attempts) * 1000) / 10,
    attempts: results,
    error: results.find((a) => !a.ok)?.error ?? null,
  };
}

/** Probes many targets with at most `concurrency` in flight; results in input order. */
export async function tcpProbeMany(
  targets: readonly TcpTarget[],
  options: TcpProbeOptions & { concurrency?: number } = {},
): Promise<TcpProbeResult[]> {
  const limit = pLimit(options.concurrency ?? 64);
  return Promise.all(targets.map((t) => limit(() => tcpProbe(t, options))));
}

/** One connect; never rejects except when `signal` aborts. */
export function tcpConnectOnce(
  address: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TcpAttempt> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const started = performance.now();
    let settled = false;
    const finish = (attempt: TcpAttempt | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (attempt instanceof Error) reject(attempt);
      else resolve(attempt);
    };
    const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          latencyMs: null,
          error: `no TCP handshake within ${timeoutMs} ms`,
          code: "ETIMEDOUT",
        }),
      timeoutMs,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () =>
      finish({ ok: true, latencyMs: roundMs(performance.now() - started), error: null, code: null }),
    );
    socket.once("error", (error) =>
      finish({
        ok: false,
        latencyMs: null,
        error: describeConnectError(error, address, port),
        code: errorCode(error),
      }),
    );
    socket.connect({ host: address, port });
  });
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  return (await lookup(host)).address;
}

function describeConnectError(error: Error, address: string, port: number): string {
  const code = errorCode(error);
  const where = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  if (code === "ECONNREFUSED") return `connection refused by ${where}`;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `${where} is unreachable (${code})`;
  return `cannot connect to ${where}: ${code}`;
}

export function errorCode(error: unknown): string {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? error.message : String(error);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid]!;
  return (sorted[mid - 1]! + sorted[mid]!) / 2;
}
