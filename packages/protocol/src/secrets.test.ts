import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateSecret, parseSecrets, SecretError, type SecretErrorCode } from "./secrets.js";

const GOOD_RAW = "a-raw-secret-of-exactly-32-chars";
const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64");

/** Runs parseSecrets expecting a SecretError; returns it. */
function refusal(value: string | readonly string[]): SecretError {
  try {
    parseSecrets(value);
  } catch (error) {
    expect(error).toBeInstanceOf(SecretError);
    return error as SecretError;
  }
  throw new Error(`parseSecrets accepted ${JSON.stringify(value)}`);
}

function expectRefused(value: string, code: SecretErrorCode, mentions: RegExp): SecretError {
  const error = refusal(value);
  expect(error.code).toBe(code);
  expect(error.name).toBe("SecretError");
  expect(error.message).toMatch(mentions);
  expect(error.message).toContain("WEBHOOK_SECRET");
  for (const token of value.split(/\s+/)) {
    const secretPart = token.replace(/^whsec_/, "");
    if (secretPart !== "") expect(error.message).not.toContain(secretPart);
  }
  return error;
}

describe("parseSecrets: accepted values", () => {
  it("takes a raw secret of 32 characters as its UTF-8 bytes", () => {
    expect(GOOD_RAW).toHaveLength(32);
    const [secret] = parseSecrets(GOOD_RAW);
    expect(secret).toEqual({ raw: GOOD_RAW, format: "raw", key: Buffer.from(GOOD_RAW) });
  });

  it("counts characters, not bytes, and keys on UTF-8", () => {
    const text = "密".repeat(32);
    expect(parseSecrets(text)[0]?.key).toEqual(Buffer.from(text, "utf8"));
    expect(refusal("密".repeat(31)).code).toBe("too_short");
  });

  it("decodes whsec_ values of 24 and 64 bytes", () => {
    for (const n of [24, 32, 64]) {
      const [secret] = parseSecrets(`whsec_${b64(n)}`);
      expect(secret?.format).toBe("whsec");
      expect(secret?.key).toEqual(Buffer.alloc(n, 7));
    }
  });

  it("splits a string on any whitespace and keeps the order", () => {
    const whsec = `whsec_${b64(32)}`;
    const secrets = parseSecrets(`  ${GOOD_RAW}\t${whsec}\n${GOOD_RAW}x  `);
    expect(secrets.map((s) => s.raw)).toEqual([GOOD_RAW, whsec, `${GOOD_RAW}x`]);
  });

  it("takes an array, each element split the same way", () => {
    const secrets = parseSecrets([GOOD_RAW, `${GOOD_RAW}b ${GOOD_RAW}c`]);
    expect(secrets.map((s) => s.raw)).toEqual([GOOD_RAW, `${GOOD_RAW}b`, `${GOOD_RAW}c`]);
  });
});

describe("parseSecrets: refusals say what to do and never echo the secret", () => {
  it("refuses a short raw secret with its length and how to make one", () => {
    const error = expectRefused("twelve-chars", "too_short", /is 12 characters; use at least 32/);
    expect(error.message).toMatch(/openssl rand -base64 32/);
    expect(error.message).toMatch(/whsec_/);
  });

  it("numbers the offending secret when there are several", () => {
    const error = expectRefused(`${GOOD_RAW} twelve-chars`, "too_short", /secret #2 is 12 characters/);
    expect(error.message).toMatch(/^WEBHOOK_SECRET: secret #2/);
  });

  it("names another variable when asked", () => {
    expect(() => parseSecrets("short", { variable: "PROBER_SECRETS" })).toThrow(
      /^PROBER_SECRETS is 5 characters/,
    );
  });

  it.each(["spiderflow-viper-sync-2026", "shadow-viper-secret-key-2024"])(
    "refuses the leaked %s by name",
    (leaked) => {
      expectRefused(leaked, "leaked", /published in the original/);
      // Also hidden among others, padded into whsec_ form (same key bytes), or in an array.
      expectRefused(`${GOOD_RAW} ${leaked}`, "leaked", /secret #2 is a secret published/);
      const wrapped = `whsec_${Buffer.from(leaked).toString("base64")}`;
      expectRefused(wrapped, "leaked", /published/);
      expect(refusal([GOOD_RAW, leaked]).code).toBe("leaked");
    },
  );

  it("refuses whsec_ values outside 24..64 bytes", () => {
    expectRefused(`whsec_${b64(23)}`, "bad_key_length", /decodes to 23 bytes; it must decode to 24\.\.64/);
    expectRefused(`whsec_${b64(65)}`, "bad_key_length", /decodes to 65 bytes/);
  });

  it.each([
    ["characters outside the alphabet", `whsec_${b64(32).slice(0, -4)}ab$=`, /outside the base64 alphabet/],
    ["the URL-safe alphabet", `whsec_${"_-".repeat(22)}`, /URL-safe/],
    ["missing padding", `whsec_${b64(32).replace(/=+$/, "")}`, /missing '=' padding/],
    ["stray bits in the last character", `whsec_${b64(32).replace(/c=$/, "d=")}`, /not canonical/],
    ["nothing after the prefix", "whsec_", /is empty/],
    ["padding in the middle", `whsec_AAAA=AAA${b64(30)}`, /outside the base64 alphabet/],
  ])("refuses whsec_ with %s", (_what, value, message) => {
    expectRefused(value, "invalid_base64", message);
  });

  it("refuses an empty list", () => {
    for (const value of ["", "   \n", []]) {
      const error = refusal(value);
      expect(error.code).toBe("empty");
      expect(error.message).toMatch(/WEBHOOK_SECRET is empty; set it to at least one secret/);
    }
  });

  it("throws a TypeError for values that are not strings", () => {
    expect(() => parseSecrets(undefined as unknown as string)).toThrow(TypeError);
    expect(() => parseSecrets([GOOD_RAW, 42] as unknown as string[])).toThrow(
      /^@viper\/protocol: secrets must be/,
    );
  });

  it("never puts a refused secret in its message", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{8,31}$/), fc.boolean(), (secret, asWhsec) => {
        const value = asWhsec ? `whsec_${secret}` : secret;
        expect(refusal(`${GOOD_RAW} ${value}`).message).not.toContain(secret);
      }),
    );
  });
});

describe("generateSecret", () => {
  it("makes a fresh whsec_ secret of 32 random bytes that parseSecrets accepts", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(parseSecrets(a)[0]?.key).toHaveLength(32);
  });
});
