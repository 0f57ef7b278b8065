/**
 * Whether an error means "the database cannot serve us right now" (answer 503 so the sender
 * retries) rather than a bug. Drizzle wraps driver errors; the SQLSTATE is on `cause.code`.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? "");
    const message = String((e as { message?: unknown }).message ?? "");
    // 08 connection, 53 resources, 57 operator intervention (shutdown), 40 serialization/deadlock.
    if (/^(08|53|57|40)/.test(code)) return true;
    if (
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT|CONNECTION_)/.test(code)
    ) {
      return true;
    }
    if (/PGlite is closed|closed|terminat|connection/i.test(message)) return true;
  }
  return false;
}
