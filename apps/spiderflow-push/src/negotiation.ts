/** Strips a weak prefix and quotes: `W/"abc"` → `abc`. */
function opaqueTag(tag: string): string {
  const trimmed = tag.trim().replace(/^W\//, "");
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2
    ? trimmed.slice(1, -1)
    : trimmed;
}

/**
 * Whether an `If-None-Match` header matches an entity tag, by weak comparison (RFC 9110 13.1.2):
 * `*`, or any listed tag equal to ours once `W/` and quotes are set aside.
 */
export function ifNoneMatchMatches(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  const ours = opaqueTag(etag);
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || (tag !== "" && opaqueTag(tag) === ours);
  });
}

/** Whether `Accept-Encoding` allows gzip (`gzip` or `*` with a non-zero q, not refused explicitly). */
export function acceptsGzip(header: string | null | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let wildcard: number | undefined;
  for (const part of header.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    const quality = Number.isNaN(q) ? 0 : q;
    if (token.trim() === "gzip" || token.trim() === "x-gzip") gzip = quality;
    else if (token.trim() === "*") wildcard = quality;
  }
  if (gzip !== undefined) return gzip > 0;
  return wildcard !== undefined && wildcard > 0;
}
