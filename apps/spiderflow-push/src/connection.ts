import { signRequest } from "@viper/protocol";
import { PushConfigError } from "./errors.js";
import { checkSecrets } from "./secrets.js";
import { answerReason, NoAnswerError, postOnce } from "./transport.js";

/** A clock skew beyond this many seconds gets a warning (the receiver's tolerance is 300 s by default). */
export const CLOCK_SKEW_WARNING_S = 30;

/** Options of {@link testWebhookConnection}. */
export interface ConnectionTestOptions {
  /** The webhook URL; the test goes to its origin + `/webhook/test-connection`. */
  url: string;
  /** `WEBHOOK_SECRET` as written (one string or a list). */
  secrets: string | readonly string[];
  /** Default 10000. */
  timeoutMs?: number;
}

/** The result of {@link testWebhookConnection}. */
export interface ConnectionTestResult {
  ok: boolean;
  /** The URL that was tested. */
  url: string;
  latencyMs: number;
  httpStatus?: number;
  /** The receiver's name (`viper-store`). */
  receiver?: string;
  protocolVersion?: number;
  /** The receiver's clock (ISO 8601). */
  serverTime?: string;
  /** Receiver clock minus ours, seconds (positive: the receiver is ahead). */
  clockSkewS?: number;
  /** Set when the clock skew exceeds {@link CLOCK_SKEW_WARNING_S}. */
  warning?: string;
  /** Why the test failed (no answer, refused signature, unexpected answer). */
  error?: string;
}

/** The test-connection URL for a webhook URL: its origin with path `/webhook/test-connection`. */
export function testConnectionUrl(webhookUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(webhookUrl);
  } catch {
    throw new PushConfigError("url", `the webhook URL "${webhookUrl}" is not a valid URL`);
  }
  return `${parsed.origin}/webhook/test-connection`;
}

/**
 * Sends a signed, empty `POST /webhook/test-connection` and reports whether the receiver accepts
 * our signature, how long it took, and how far apart our clocks are.
 */
export async function testWebhookConnection(options: ConnectionTestOptions): Promise<ConnectionTestResult> {
  const url = testConnectionUrl(options.url);
  const secrets = checkSecrets(options.secrets);
  const body = new Uint8Array(0);
  const sentAt = Date.now();
  const headers: Record<string, string> = {
    ...signRequest({ body, secrets, timestamp: Math.floor(sentAt / 1000) }),
    "content-type": "application/json",
    "user-agent": "spiderflow-push/1",
  };
  const t0 = performance.now();
  let answer: Awaited<ReturnType<typeof postOnce>>;
  try {
    answer = await postOnce({ url, body, headers, timeoutMs: options.timeoutMs ?? 10_000 });
  } catch (error) {
    if (!(error instanceof NoAnswerError)) throw error;
    return { ok: false, url, latencyMs: Math.round(performance.now() - t0), error: error.message };
  }
  const latencyMs = Math.round(performance.now() - t0);
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== "object") {
    return { ok: false, url, latencyMs, httpStatus: answer.status, error: answerReason(answer) };
  }
  const fields = answer.body as Record<string, unknown>;
  const result: ConnectionTestResult = { ok: fields.status === "connected", url, latencyMs, httpStatus: 200 };
  if (typeof fields.receiver === "string") result.receiver = fields.receiver;
  if (typeof fields.protocol_version === "number") result.protocolVersion = fields.protocol_version;
  if (typeof fields.server_time === "string") result.serverTime = fields.server_time;
  if (typeof fields.clock_skew_s === "number") {
    result.clockSkewS = fields.clock_skew_s;
  } else if (result.serverTime && !Number.isNaN(Date.parse(result.serverTime))) {
    // Compare with the middle of the round trip.
    result.clockSkewS = Math.round((Date.parse(result.serverTime) - (sentAt + latencyMs / 2)) / 1000);
  }
  if (!result.ok) result.error = `unexpected answer: ${JSON.stringify(fields).slice(0, 300)}`;
  if (result.clockSkewS !== undefined && Math.abs(result.clockSkewS) > CLOCK_SKEW_WARNING_S) {
    result.warning = `clocks differ by ${result.clockSkewS} s (receiver minus sender); signatures fail beyond the receiver's tolerance (300 s by default): fix the clock (NTP)`;
  }
  return result;
}
