import { MISUSE_PREFIX } from "./constants.js";

/**
 * The exact HTTP body bytes as sent (after `Content-Encoding`). A string is taken as its UTF-8 bytes.
 * Never a parsed object: re-serialised JSON is not what was signed.
 */
export type RawBody = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** Something `Hmac.update` takes without copying. */
export type HmacInput = string | Uint8Array;

/**
 * Checks that `body` is raw bytes and returns a view of them (no copy: bodies can be megabytes).
 * @throws {TypeError} for anything else, e.g. the result of `JSON.parse`.
 */
export function toHmacInput(body: unknown, fn: string): HmacInput {
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const got = body === null ? "null" : Array.isArray(body) ? "an array" : typeof body;
  throw new TypeError(
    `${MISUSE_PREFIX} ${fn}: body must be the raw request bytes (string, Uint8Array, Buffer or ArrayBuffer), ` +
      `got ${got}; read the body as bytes and verify it before JSON.parse`,
  );
}
