/**
 * Request headers as the receiver has them: a fetch `Headers`, or a plain object with keys in any case
 * (Node's `IncomingHttpHeaders`, a test's literal).
 */
export type HeadersInput = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Looks up one header by its lower-case name; absent or empty → undefined. */
export type HeaderReader = (lowerName: string) => string | undefined;

/**
 * Builds a case-insensitive reader over `headers`. Repeated values (an array) are joined with ", ",
 * as Node and `Headers` join repeated fields; values are trimmed of spaces and tabs like HTTP does.
 */
export function headerReader(headers: HeadersInput): HeaderReader {
  if (isFetchHeaders(headers)) return (name) => clean(headers.get(name) ?? undefined);
  const byLowerName = new Map<string, string | readonly string[] | undefined>();
  for (const key of Object.keys(headers)) byLowerName.set(key.toLowerCase(), headers[key]);
  return (name) => {
    const value = byLowerName.get(name);
    return clean(typeof value === "string" || value === undefined ? value : value.join(", "));
  };
}

function isFetchHeaders(headers: HeadersInput): headers is Headers {
  return typeof (headers as { get?: unknown }).get === "function";
}

function clean(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, "");
  return trimmed === "" ? undefined : trimmed;
}
