import { createGunzip } from "node:zlib";

/** Raised when a body (on the wire or after gunzip) exceeds the cap; the edge answers 413. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  constructor(
    readonly limit: number,
    readonly stage: "wire" | "decompressed",
  ) {
    super(
      stage === "wire"
        ? `request body exceeds MAX_BODY_BYTES (${limit} bytes)`
        : `request body exceeds MAX_BODY_BYTES (${limit} bytes) after gunzip`,
    );
  }
}

/** Raised for a Content-Encoding: gzip body that is not valid gzip; the edge answers 400. */
export class BadEncodingError extends Error {
  override name = "BadEncodingError";
}

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
  return concat(chunks, total);
}

/**
 * Gunzips with a hand-counted output cap: `createGunzip({ maxOutputLength })` ignores the
 * option (LIBRARIES.md), so a small bomb would otherwise inflate without bound.
 */
export function gunzipCapped(data: Uint8Array, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Uint8Array[] = [];
    let total = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      reject(err);
    };
    gunzip.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) return fail(new BodyTooLargeError(limit, "decompressed"));
      chunks.push(chunk);
    });
    gunzip.on("error", (err: NodeJS.ErrnoException) =>
      fail(
        new BadEncodingError(
          `Content-Encoding is gzip but the body is not valid gzip (${err.code ?? err.message})`,
        ),
      ),
    );
    gunzip.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(concat(chunks, total));
    });
    gunzip.end(data);
  });
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
