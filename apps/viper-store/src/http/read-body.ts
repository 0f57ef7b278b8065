import { BodyTooLargeError, concatChunks } from "../services/capped-body.js";

// The HTTP-free part (size errors, capped gunzip) lives in services/ so the poller shares it.
export { BadEncodingError, BodyTooLargeError, gunzipCapped } from "../services/capped-body.js";

/**
 * Reads the raw request stream, counting bytes as they arrive and stopping at `limit`:
 * nothing beyond the cap is ever buffered (Content-Length is checked first when present).
 */
export async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    throw new BodyTooLargeError(limit, "wire");
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  // With a declared length, fill one buffer of that size (no second copy of a 30 MB body).
  const expected = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
  const single = expected !== undefined ? new Uint8Array(expected) : undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit, "wire");
    }
    if (single && chunks.length === 0 && filled + value.byteLength <= single.byteLength) {
      single.set(value, filled);
      filled += value.byteLength;
    } else chunks.push(value);
    total += value.byteLength;
  }
  if (single && chunks.length === 0 && filled === single.byteLength) return single;
  // The body did not match its Content-Length (Node's parser normally prevents this).
  if (single) chunks.unshift(single.subarray(0, filled));
  return concatChunks(chunks, total);
}
