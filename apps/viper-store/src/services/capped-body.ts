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
      resolve(concatChunks(chunks, total));
    });
    gunzip.end(data);
  });
}

/** Collects a stream of chunks, refusing (without buffering more) once `limit` bytes have arrived. */
export async function collectCapped(chunks: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > limit) throw new BodyTooLargeError(limit, "wire");
    parts.push(chunk);
  }
  return concatChunks(parts, total);
}

export function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
