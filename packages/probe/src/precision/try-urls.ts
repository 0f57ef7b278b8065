/**
 * Finds the configured URL that answers, with the download itself: each URL gets one GET, and the
 * first 2xx response IS the measured download (no probing request, no HEAD). A connection error or
 * another status moves on to the next URL; redirects are followed by hand, a few at most, and never
 * to a link-local or metadata address.
 */
import { type Dispatcher, request } from "undici";
import { describeRequestError, untilAborted } from "../http-check.js";
import { errorCode } from "../tcp.js";
import type { PathKind } from "./download-path.js";
import { redirectRefusal } from "./forbidden-address.js";

export interface UrlAttempt {
  /** The configured URL, `{bytes}` replaced. */
  url: string;
  /** Where redirects led, in order. */
  redirects: string[];
  /** The last HTTP status received for this URL; null when no answer came. */
  http_status: number | null;
  /** Why this URL was not used; null for the one that was. */
  error: string | null;
}

export interface Answer {
  response: Dispatcher.ResponseData;
  /** `performance.now()` when the answering request was sent (after any redirects). */
  sentAt: number;
  /** The URL that answered, after redirects. */
  finalUrl: string;
}

export const DOWNLOAD_HEADERS = {
  "user-agent": "viper-probe/1 (precision test)",
  accept: "*/*",
  // Wire bytes are the measurement: a compressed answer would make the meter lie.
  "accept-encoding": "identity",
};

/**
 * Tries `urls` in order. Resolves with the first 2xx answer (its body unread) or null when none
 * answered; `attempts` is filled either way. Rejects only when `signal` aborts.
 */
export async function firstAnswer(
  urls: readonly string[],
  options: { dispatcher: Dispatcher; signal: AbortSignal; maxRedirects: number; path: PathKind },
  attempts: UrlAttempt[],
): Promise<Answer | null> {
  for (const url of urls) {
    const attempt: UrlAttempt = { url, redirects: [], http_status: null, error: null };
    attempts.push(attempt);
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      const sentAt = performance.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await untilAborted(
          request(current, {
            dispatcher: options.dispatcher,
            signal: options.signal,
            method: "GET",
            headers: DOWNLOAD_HEADERS,
          }),
          options.signal,
        );
      } catch (error) {
        if (options.signal.aborted) throw options.signal.reason;
        attempt.error = describeAttemptError(error, options.path);
        break;
      }
      const status = response.statusCode;
      attempt.http_status = status;
      if (status >= 200 && status < 300) return { response, sentAt, finalUrl: current.href };
      // Not the file: do not read it (it could be large); closing costs one connection at most.
      // Destroying an unfinished body emits an AbortError that nobody needs.
      response.body.on("error", () => {});
      response.body.destroy();
      const location = headerValue(response.headers["location"]);
      if (status < 300 || status >= 400 || location === null) {
        attempt.error = `answered HTTP ${status}`;
        break;
      }
      if (hop >= options.maxRedirects) {
        attempt.error = `more than ${options.maxRedirects} redirects`;
        break;
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        attempt.error = `redirected to an invalid URL (${location.slice(0, 200)})`;
        break;
      }
      const refusal = await untilAborted(redirectRefusal(next), options.signal);
      if (options.signal.aborted) throw options.signal.reason;
      attempt.redirects.push(next.href);
      if (refusal !== null) {
        attempt.error = refusal;
        break;
      }
      current = next;
    }
  }
  return null;
}

function headerValue(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? null : first;
}

/** A failed request in words; through a node the wording says which hop failed. */
export function describeAttemptError(error: unknown, path: PathKind): string {
  if (path !== "direct") return describeRequestError(error, path === "core" ? "core" : "node");
  const code = errorCode(error);
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the host (${code})`;
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "no connection within the connect timeout";
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET") return "the server closed the connection";
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${message}${cause}`;
}
