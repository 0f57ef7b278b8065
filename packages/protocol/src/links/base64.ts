import { LinkError } from "./errors.js";

const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = /\s+/g;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes std or url-safe base64, padded or not, ignoring whitespace, into UTF-8 text.
 * Returns null when the input is not base64 or not UTF-8 (callers decide what that means).
 */
export function decodeBase64Text(input: string): string | null {
  const compact = input.replace(WHITESPACE, "").replace(/-/g, "+").replace(/_/g, "/");
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64_BODY.test(compact)) return null;
  const body = compact.replace(/=+$/, "");
  if (body.length % 4 === 1) return null;
  try {
    return utf8.decode(Buffer.from(body, "base64"));
  } catch {
    return null;
  }
}

/** Like decodeBase64Text, but throws a LinkError naming `what` when the text is not base64. */
export function requireBase64Text(input: string, what: string): string {
  const text = decodeBase64Text(input);
  if (text === null) throw new LinkError(`${what} is not valid base64-encoded UTF-8 text`);
  return text;
}

/** Standard base64 with padding (v2rayN vmess). */
export function encodeBase64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** URL-safe base64 without padding (SIP002 userinfo, ssr). */
export function encodeBase64Url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
