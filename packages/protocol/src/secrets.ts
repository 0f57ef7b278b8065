/**
 * Webhook secrets (DESIGN.md 3.1): how a `WEBHOOK_SECRET` value becomes HMAC keys.
 *
 * - `whsec_<base64>`: the key is the strict base64 decode, 24..64 bytes (Standard Webhooks format).
 * - any other string: the key is its UTF-8 bytes; at least 32 characters.
 * - several secrets are separated by whitespace (rotation: the sender signs with all, the receiver accepts any).
 * - the seed's published secrets are refused by name, whatever their format.
 *
 * Error messages name the variable and the secret's position, never the secret itself.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** The prefix of a Standard Webhooks secret. */
export const WHSEC_PREFIX = "whsec_";
/** Shortest accepted raw (non-`whsec_`) secret, in characters. */
export const MIN_RAW_SECRET_CHARS = 32;
/** Shortest accepted decoded length of a `whsec_` secret, in bytes. */
export const WHSEC_MIN_BYTES = 24;
/** Longest accepted decoded length of a `whsec_` secret, in bytes. */
export const WHSEC_MAX_BYTES = 64;

/**
 * Secrets that shipped in the seed's source code: public, so refusing them is the only safe answer.
 * Compared as key bytes, so `whsec_` + base64 of the same text is refused too.
 */
const LEAKED_SECRETS: readonly Buffer[] = ["spiderflow-viper-sync-2026", "shadow-viper-secret-key-2024"].map(
  (s) => Buffer.from(s, "utf8"),
);

const GENERATE_HINT = "e.g. `openssl rand -base64 32`, or a whsec_ value";

/** One usable secret. */
export interface SigningSecret {
  /** The secret as written in the configuration (keep it out of logs). */
  raw: string;
  /** `whsec` when the value had the `whsec_` prefix, else `raw`. */
  format: "whsec" | "raw";
  /** HMAC-SHA256 key bytes. */
  key: Uint8Array;
}

/** Why a secret was refused. */
export type SecretErrorCode = "empty" | "leaked" | "too_short" | "invalid_base64" | "bad_key_length";

/** A configured secret that must not be used; the process should refuse to start. */
export class SecretError extends Error {
  override readonly name = "SecretError";
  readonly code: SecretErrorCode;
  constructor(code: SecretErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Options of {@link parseSecrets}. */
export interface ParseSecretsOptions {
  /** Variable named in error messages. Default `WEBHOOK_SECRET`. */
  variable?: string;
}

/**
 * Parses a secret list as written in `WEBHOOK_SECRET`: one string (split on whitespace) or an array of them.
 *
 * @returns the secrets in the order given (at least one).
 * @throws {SecretError} when the list is empty or any secret is leaked, too short, or not strict base64.
 * @throws {TypeError} when `value` is neither a string nor an array of strings.
 */
export function parseSecrets(
  value: string | readonly string[],
  options: ParseSecretsOptions = {},
): SigningSecret[] {
  const variable = options.variable ?? "WEBHOOK_SECRET";
  const tokens = splitSecrets(value);
  if (tokens.length === 0) {
    throw new SecretError(
      "empty",
      `${variable} is empty; set it to at least one secret of ${MIN_RAW_SECRET_CHARS}+ characters (${GENERATE_HINT}).`,
    );
  }
  const where = (i: number) => (tokens.length === 1 ? `${variable}` : `${variable}: secret #${i + 1}`);
  return tokens.map((raw, i) => parseOneSecret(raw, where(i)));
}

/** A fresh `whsec_` secret holding 32 random bytes, e.g. for a store writing its secret file on first start. */
export function generateSecret(): string {
  return WHSEC_PREFIX + randomBytes(32).toString("base64");
}

function splitSecrets(value: string | readonly string[]): string[] {
  const parts: readonly unknown[] =
    typeof value === "string" ? [value] : Array.isArray(value) ? value : [value];
  const tokens: string[] = [];
  for (const part of parts) {
    if (typeof part !== "string") {
      throw new TypeError(
        `@viper/protocol: secrets must be a string or an array of strings (as written in WEBHOOK_SECRET), got ${describe(part)}`,
      );
    }
    for (const token of part.split(/\s+/)) if (token !== "") tokens.push(token);
  }
  return tokens;
}

function parseOneSecret(raw: string, where: string): SigningSecret {
  if (raw.startsWith(WHSEC_PREFIX)) {
    const key = decodeStrictBase64(raw.slice(WHSEC_PREFIX.length), where);
    refuseLeaked(key, where);
    if (key.length < WHSEC_MIN_BYTES || key.length > WHSEC_MAX_BYTES) {
      throw new SecretError(
        "bad_key_length",
        `${where} is a whsec_ value that decodes to ${key.length} bytes; it must decode to ` +
          `${WHSEC_MIN_BYTES}..${WHSEC_MAX_BYTES} bytes (32 is usual: \`echo whsec_$(openssl rand -base64 32)\`).`,
      );
    }
    return { raw, format: "whsec", key };
  }
  const key = Buffer.from(raw, "utf8");
  refuseLeaked(key, where);
  const chars = [...raw].length;
  if (chars < MIN_RAW_SECRET_CHARS) {
    throw new SecretError(
      "too_short",
      `${where} is ${chars} characters; use at least ${MIN_RAW_SECRET_CHARS}, ${GENERATE_HINT}.`,
    );
  }
  return { raw, format: "raw", key };
}

function refuseLeaked(key: Buffer, where: string): void {
  for (const leaked of LEAKED_SECRETS) {
    if (leaked.length === key.length && timingSafeEqual(leaked, key)) {
      throw new SecretError(
        "leaked",
        `${where} is a secret published in the original SpiderFlow/viper code, so anyone can sign with it; ` +
          `replace it on both sides with a new one (${GENERATE_HINT}).`,
      );
    }
  }
}

/** Standard alphabet, padded, canonical (no stray bits in the last character): one value, one encoding. */
function decodeStrictBase64(text: string, where: string): Buffer {
  const fail = (what: string) =>
    new SecretError(
      "invalid_base64",
      `${where} is a whsec_ value whose rest ${what}; it must be standard padded base64 ` +
        `(A-Z a-z 0-9 + /, '=' padding), e.g. \`echo whsec_$(openssl rand -base64 32)\`.`,
    );
  if (text === "") throw fail("is empty");
  if (/[-_]/.test(text) && !/[+/]/.test(text) && /^[A-Za-z0-9_-]+=*$/.test(text)) {
    throw fail("uses the URL-safe alphabet ('-' and '_')");
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw fail("contains characters outside the base64 alphabet");
  if (text.length % 4 !== 0) throw fail("is not a multiple of 4 characters long (missing '=' padding?)");
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text)
    throw fail("is not canonical base64 (stray bits in its last character)");
  return bytes;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array containing a non-string";
  return typeof value;
}
