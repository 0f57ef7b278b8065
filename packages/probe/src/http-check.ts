/**
 * One HTTP request to the probe URL through a dispatcher. `undici.request` (not fetch): no
 * decompression and no redirects, so the answer is exactly what the node delivered.
 */
import { type Dispatcher, request } from "undici";
import { errorCode } from "./tcp.js";
import { roundMs } from "./timing.js";

export interface HttpCheckOutcome {
  ok: boolean;
  /** Time to the response headers; null when there was no response. */
  latencyMs: number | null;
  /** HTTP status of PROBE_URL's answer, when one arrived. */
  status: number | null;
  error: string | null;
}

/** A generate_204 answer has no body; anything larger than this is not read to the end. */
const BODY_READ_LIMIT = 64 * 1024;

export type Hop = "node" | "core";

export async function httpCheck(
  dispatcher: Dispatcher,
  url: string,
  options: {
    timeoutMs: number;
    /** The caller's abort: rethrown. */
    signal?: AbortSignal | undefined;
    /** Aborted with an Error when the node is known dead by other means: its message is the result. */
    failFast?: AbortSignal | undefined;
    hop: Hop;
  },
): Promise<HttpCheckOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([timeout, options.signal, options.failFast].filter((s) => s !== undefined));
  const started = performance.now();
  let latencyMs: number | null = null;
  let status: number | null = null;
  try {
    const response = await untilAborted(
      request(url, {
        dispatcher,
        signal,
        method: "GET",
        headers: { "user-agent": "viper-probe/1", accept: "*/*" },
      }),
      signal,
    );
    latencyMs = roundMs(performance.now() - started);
    status = response.statusCode;
    let read = 0;
    for await (const chunk of response.body) {
      read += (chunk as Buffer).byteLength;
      if (read >= BODY_READ_LIMIT) break;
    }
    response.body.destroy();
    if (status >= 200 && status < 300) return { ok: true, latencyMs, status, error: null };
    return { ok: false, latencyMs, status, error: `the probe URL answered HTTP ${status} through the node` };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (options.failFast?.aborted) {
      const reason: unknown = options.failFast.reason;
      return {
        ok: false,
        latencyMs,
        status,
        error: reason instanceof Error ? reason.message : String(reason),
      };
    }
    if (timeout.aborted) {
      const what = status === null ? "no answer" : "the answer did not finish";
      return { ok: false, latencyMs, status, error: `${what} within ${options.timeoutMs} ms` };
    }
    return { ok: false, latencyMs, status, error: describeRequestError(error, options.hop) };
  }
}

/** undici's errors in words for whoever reads the check result. */
export function describeRequestError(error: unknown, hop: Hop): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const tunnel = /Proxy response \((\d+)\)/.exec(message);
  if (tunnel) return `the proxy refused the tunnel with HTTP ${tunnel[1]}`;
  if (hop === "core") {
    // The local inbound always accepts; a failure means v2ray could not carry the request.
    if (code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "UND_ERR_CLOSED") {
      return "the node closed the connection without an answer (dead, refusing, or wrong credentials)";
    }
    if (code === "ECONNREFUSED") return "the local v2ray inbound refused the connection (core not running)";
  }
  if (code === "ECONNREFUSED") return "connection refused by the node";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the node's host (${code})`;
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET")
    return "the node closed the connection without an answer";
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "no connection to the node within the timeout";
  if (/socks/i.test(message)) return `SOCKS5: ${message}`;
  if (cause) return `${message}: ${cause.message}`;
  return message;
}

/**
 * Settles when `signal` aborts even if the operation does not notice (undici's proxy CONNECT
 * does not); the caller destroys the dispatcher, which ends the operation itself.
 */
export function untilAborted<T>(operation: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The operation may still reject (undici does, for an aborted signal): nobody awaits it.
    operation.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    operation.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
