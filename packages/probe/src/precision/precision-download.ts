/**
 * The precision test's meter: downloads one real file through the node (or, when asked, directly),
 * capped in bytes and seconds, and measures it right — decimal MB/s and Mbit/s excluding the time
 * to the first byte, a 90th percentile over 250 ms windows, the wire bytes it cost. Every path
 * ends with the dispatcher closed and the core exited, and resolves with a result (bytes used
 * included) — a timeout, an abort and a dead URL are results, not exceptions.
 */
import type { ShareLink } from "@viper/protocol";
import type { Dispatcher } from "undici";
import { DEFAULT_PROBE_TIMEOUT_MS } from "../env.js";
import { throughNodeSupport } from "../support.js";
import { roundMs } from "../timing.js";
import {
  type DownloadPath,
  type DownloadVia,
  openDownloadPath,
  type PathKind,
  type TrafficCounted,
} from "./download-path.js";
import { type PrecisionProgress, ProgressTicker } from "./progress.js";
import { RateWindows } from "./rate-windows.js";
import { type Answer, describeAttemptError, firstAnswer, type UrlAttempt } from "./try-urls.js";

export type { PrecisionProgress } from "./progress.js";
export type { UrlAttempt } from "./try-urls.js";

export type PrecisionStatus = "success" | "cap_reached" | "timeout" | "aborted" | "failed";

export type PrecisionDownloadOptions = DownloadVia & {
  /** Bytes to download (the store's size_mb × 10^6); reading stops here (≤ one chunk over). */
  sizeBytes: number;
  /** PRECISION_TEST_URLS, in order; `{bytes}` is replaced by `sizeBytes`. */
  urls: readonly string[];
  /** The whole test, from this call (core start-up, attempts, TTFB and body): PRECISION_MAX_SECONDS. */
  maxSeconds: number;
  /** Aborts promptly (the store: the SSE client went away); the result says "aborted". */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` while the test runs. Its errors are ignored. */
  onProgress?: (progress: PrecisionProgress) => void;
  /** undefined → V2RAY_BIN or PATH; null → no core (core nodes then throw ThroughNodeError "no-core"). */
  v2rayBin?: string | null;
  /** Bounds each connection (to the node, or to the server when direct). Default 5000. */
  connectTimeoutMs?: number;
  /** Default 200 (five a second). */
  progressIntervalMs?: number;
  /** Redirects followed per URL. Default 3. */
  maxRedirects?: number;
};

export interface PrecisionResult {
  status: PrecisionStatus;
  via: "node" | "direct";
  /** How: natively through an http/https/socks5 node, through a v2ray core, or direct. */
  path: PathKind;
  /** The configured URL (expanded) that was measured; null when none answered. */
  url: string | null;
  /** Where it led after redirects. */
  final_url: string | null;
  /** Body bytes received (the cap can be passed by one chunk, ≤ 64 KiB). */
  bytes_downloaded: number;
  /** From sending the measured request to its response headers. */
  ttfb_ms: number | null;
  /** From the response headers to the end of reading: the time the speeds are over. */
  duration_ms: number | null;
  /** 10^6 bytes per second. */
  mb_per_s: number | null;
  /** 10^6 bits per second. */
  mbit_per_s: number | null;
  /** 90th percentile of the 250 ms windows; null when the body took less than one window. */
  p90_mb_per_s: number | null;
  /** Bytes in + out on the first-hop socket, headers and failed attempts included: for the ledger. */
  traffic_consumed_bytes: number;
  traffic_counted: TrafficCounted;
  /** Every URL tried, in order, and why the ones not used failed. */
  attempts: UrlAttempt[];
  /** Why the status is not "success"/"cap_reached"; null otherwise. */
  error: string | null;
}

export const DEFAULT_PRECISION_TEST_URL = "https://speed.cloudflare.com/__down?bytes={bytes}";
const DEFAULT_MAX_REDIRECTS = 3;

/** A configured URL template with its size filled in (`{bytes}`, every occurrence). */
export function expandTestUrl(template: string, sizeBytes: number): string {
  return template.replaceAll("{bytes}", String(sizeBytes));
}

/**
 * Throws `TypeError` for misuse (bad size, no URLs, a URL that does not parse) and
 * `ThroughNodeError` when the node cannot be tested through (the store answers 422); resolves with
 * a result in every other case, once the dispatcher is closed and the core has exited.
 */
export async function precisionDownload(options: PrecisionDownloadOptions): Promise<PrecisionResult> {
  const urls = validate(options);
  const run = new Run(options);
  let outcome: PrecisionResult;
  try {
    outcome = await run.measure(urls);
  } finally {
    await run.cleanUp();
  }
  // Read after close(): every socket has been counted by then, the aborted ones included.
  const traffic = run.path?.traffic() ?? { bytesIn: 0, bytesOut: 0 };
  return { ...outcome, traffic_consumed_bytes: traffic.bytesIn + traffic.bytesOut };
}

type StopReason = "timeout" | "aborted";

/** One test's state: the stop controller (abort or time cap), the path, the bytes so far. */
class Run {
  path: DownloadPath | null = null;
  private bytes = 0;
  private stopReason: StopReason | null = null;
  private readonly stop = new AbortController();
  private readonly deadline: NodeJS.Timeout;
  private readonly ticker: ProgressTicker;
  private readonly attempts: UrlAttempt[] = [];
  private readonly onAbort = () => this.halt("aborted");

  constructor(private readonly options: PrecisionDownloadOptions) {
    const startedAt = performance.now();
    if (options.signal?.aborted) this.halt("aborted");
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.deadline = setTimeout(() => this.halt("timeout"), options.maxSeconds * 1000);
    this.ticker = new ProgressTicker({
      intervalMs: options.progressIntervalMs ?? 200,
      sizeBytes: options.sizeBytes,
      startedAt,
      bytes: () => this.bytes,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    this.ticker.start();
  }

  async measure(urls: readonly string[]): Promise<PrecisionResult> {
    const { options } = this;
    try {
      this.path = await openDownloadPath(options, {
        v2rayBin: options.v2rayBin,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
        signal: this.stop.signal,
      });
    } catch (error) {
      // Stopped during core start-up: a result. Anything else (the node cannot be tested
      // through) is the caller's to report.
      if (this.stopReason === null) throw error;
      return this.stopped(this.stopReason);
    }
    const path = this.path;

    let answer: Answer | null;
    try {
      answer = await firstAnswer(
        urls,
        {
          dispatcher: path.dispatcher,
          signal: this.stop.signal,
          maxRedirects: options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
          path: path.kind,
        },
        this.attempts,
      );
    } catch (error) {
      if (this.stopReason === null) throw error;
      return this.stopped(this.stopReason);
    }
    if (answer === null) return { ...this.base(), status: "failed", error: noAnswerMessage(this.attempts) };

    const headersAt = performance.now();
    const windows = new RateWindows(headersAt);
    let status: PrecisionStatus;
    let error: string | null = null;
    try {
      status = await this.readBody(answer.response.body, windows, contentLength(answer.response.headers));
    } catch (readError) {
      if (this.stopReason !== null) {
        status = this.stopReason;
        error = stoppedMessage(this.stopReason, options.maxSeconds);
      } else {
        status = "failed";
        error = `the download broke off after ${this.bytes} bytes: ${describeAttemptError(readError, path.kind)}`;
      }
    }
    const endAt = performance.now();
    const durationMs = endAt - headersAt;
    const mbPerS = durationMs > 0 ? this.bytes / 1e6 / (durationMs / 1000) : null;
    return {
      ...this.base(),
      status,
      url: this.attempts.at(-1)?.url ?? null,
      final_url: answer.finalUrl,
      ttfb_ms: roundMs(headersAt - answer.sentAt),
      duration_ms: roundMs(durationMs),
      mb_per_s: round3(mbPerS),
      mbit_per_s: round3(mbPerS === null ? null : mbPerS * 8),
      p90_mb_per_s: round3(windows.p90MbPerS(endAt)),
      error,
    };
  }

  /**
   * Counts the body until it ends or reaches the cap, then destroys it (undici drops the
   * connection, nothing more is read). Data events rather than `for await`: no promise per chunk,
   * which is most of the meter's cost on a fast path.
   */
  private readBody(
    body: Dispatcher.ResponseData["body"],
    windows: RateWindows,
    offered: number | null,
  ): Promise<"success" | "cap_reached"> {
    const cap = this.options.sizeBytes;
    return new Promise((resolve, reject) => {
      body.on("data", (chunk: Buffer) => {
        this.bytes += chunk.byteLength;
        windows.add(chunk.byteLength, performance.now());
        if (this.bytes < cap) return;
        // Reaching the cap of a body that has more (or may have more) is "cap_reached".
        resolve(this.bytes > cap || (offered !== null && offered > cap) ? "cap_reached" : "success");
        body.destroy();
      });
      body.once("end", () => resolve("success"));
      // After a destroy() at the cap this is undici's AbortError: the promise has settled already.
      body.once("error", reject);
    });
  }

  async cleanUp(): Promise<void> {
    clearTimeout(this.deadline);
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.ticker.stop();
    this.stop.abort();
    await this.path?.close();
  }

  private halt(reason: StopReason): void {
    this.stopReason ??= reason;
    this.stop.abort(new Error(stoppedMessage(reason, this.options.maxSeconds)));
  }

  private stopped(reason: StopReason): PrecisionResult {
    return { ...this.base(), status: reason, error: stoppedMessage(reason, this.options.maxSeconds) };
  }

  /** A result with nothing measured yet; `measure` fills in what it got. */
  private base(): Omit<PrecisionResult, "status" | "error"> {
    const direct = this.options.direct === true;
    const kind: PathKind = this.path?.kind ?? (direct ? "direct" : plannedKind(this.options.link));
    return {
      via: direct ? "direct" : "node",
      path: kind,
      url: null,
      final_url: null,
      bytes_downloaded: this.bytes,
      ttfb_ms: null,
      duration_ms: null,
      mb_per_s: null,
      mbit_per_s: null,
      p90_mb_per_s: null,
      traffic_consumed_bytes: 0,
      traffic_counted:
        this.path?.counted ??
        (kind === "core" ? "core-inbound" : kind === "direct" ? "direct-socket" : "node-socket"),
      attempts: this.attempts,
    };
  }
}

/** The path a node would take, for a result written before the path was open. */
function plannedKind(link: ShareLink | undefined): PathKind {
  return link && throughNodeSupport(link).kind === "core" ? "core" : "native";
}

function validate(options: PrecisionDownloadOptions): string[] {
  const { sizeBytes, maxSeconds, urls } = options;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) {
    throw new TypeError(`@viper/probe: sizeBytes must be a whole number of bytes ≥ 1 (got ${sizeBytes})`);
  }
  if (!Number.isFinite(maxSeconds) || maxSeconds <= 0) {
    throw new TypeError(`@viper/probe: maxSeconds must be a positive number (got ${maxSeconds})`);
  }
  if (urls.length === 0) throw new TypeError("@viper/probe: urls is empty; give PRECISION_TEST_URLS");
  if (options.direct !== true && !options.link) {
    throw new TypeError("@viper/probe: give either link (through the node) or direct: true");
  }
  return urls.map((template) => {
    const url = expandTestUrl(template, sizeBytes);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`@viper/probe: the test URL "${template}" is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`@viper/probe: the test URL "${template}" must be http:// or https://`);
    }
    return parsed.href;
  });
}

function contentLength(headers: Dispatcher.ResponseData["headers"]): number | null {
  const raw = headers["content-length"];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isSafeInteger(value) ? value : null;
}

function stoppedMessage(reason: "timeout" | "aborted", maxSeconds: number): string {
  return reason === "timeout" ? `stopped at the time cap of ${maxSeconds} s` : "aborted by the caller";
}

function noAnswerMessage(attempts: readonly UrlAttempt[]): string {
  return `no test URL answered: ${attempts.map((a) => `${a.url}: ${a.error}`).join("; ")}`;
}

function round3(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
