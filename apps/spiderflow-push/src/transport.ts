import { ofetch } from "ofetch";

/** An HTTP answer, whatever its status. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body was JSON, else its text (possibly empty). */
  body: unknown;
}

/** No answer arrived: connection refused or reset, DNS failure, or the per-attempt timeout. */
export class NoAnswerError extends Error {
  override readonly name = "NoAnswerError";
  readonly timedOut: boolean;

  constructor(message: string, timedOut: boolean) {
    super(message);
    this.timedOut = timedOut;
  }
}

export interface PostOptions {
  url: string;
  body: Uint8Array;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Cancels the request (the caller gives up); not treated as a network error. */
  signal?: AbortSignal;
}

/** The innermost useful description of a fetch failure ("connect ECONNREFUSED 127.0.0.1:9", "other side closed"). */
function describeNetworkError(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    messages.push(code && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return messages.at(-1) ?? String(error);
}

function parseBody(text: string): unknown {
  if (text === "") return "";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * One POST, no retries of its own. `AbortSignal.timeout` covers the whole exchange, body included
 * (ofetch's `timeout` option covers headers only, and is ignored once a signal is passed).
 */
export async function postOnce(options: PostOptions): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await ofetch.raw<string, "text">(options.url, {
      method: "POST",
      body: options.body,
      headers: options.headers,
      retry: 0,
      signal,
      redirect: "manual",
      ignoreResponseError: true,
      responseType: "text",
    });
    return { status: response.status, headers: response.headers, body: parseBody(response._data ?? "") };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted)
      throw new NoAnswerError(`no answer within ${options.timeoutMs} ms (timed out)`, true);
    throw new NoAnswerError(describeNetworkError(error), false);
  }
}

/** The receiver's reason in an error answer: its JSON `reason`/`message`/`error`, or the text. */
export function answerReason(answer: HttpAnswer): string {
  const { body } = answer;
  let reason = "";
  if (body !== null && typeof body === "object") {
    const fields = body as Record<string, unknown>;
    // viper-store answers { status: "error", error: <code>, message: <for people> }.
    for (const key of ["reason", "message", "error", "detail"]) {
      const value = fields[key];
      if (typeof value === "string" && value !== "") {
        reason = value;
        const code = fields.error;
        if (key !== "error" && typeof code === "string" && code !== "") reason += ` (${code})`;
        break;
      }
      if (value !== null && typeof value === "object") {
        reason = JSON.stringify(value);
        break;
      }
    }
    if (reason === "") reason = JSON.stringify(body);
  } else if (typeof body === "string") {
    reason = body.trim();
  }
  if (reason.length > 500) reason = `${reason.slice(0, 500)}…`;
  const location = answer.status >= 300 && answer.status < 400 ? answer.headers.get("location") : null;
  if (location) return `redirected to ${location}; point the sender at the final URL`;
  return reason === "" ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${reason}`;
}
