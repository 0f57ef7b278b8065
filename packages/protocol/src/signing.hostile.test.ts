/**
 * Headers crafted to make verifyRequest accept what it must not: look-alike characters, empty or
 * padded entries, timestamps in forms other than digits, repeated headers. Each case starts from a
 * valid request and changes one thing, so a pass here means the change alone was refused.
 */
import { describe, expect, it } from "vitest";
import { signLegacyRequest, signRequest, type VerifyResult, verifyRequest } from "./signing.js";

const SECRET = "a-raw-secret-for-hostile-tests-0123456789";
const T = 1767268800;
const BODY = '{"event_type":"test_push","nodes":[]}';
const good = signRequest({ body: BODY, secrets: SECRET, id: "msg_1", timestamp: T });
const entry = good["webhook-signature"].slice(3);

function verifyV1(headers: Record<string, string | string[]>): VerifyResult {
  return verifyRequest({ body: BODY, secrets: SECRET, now: T, headers });
}

function refused(result: VerifyResult): string {
  expect(result.ok).toBe(false);
  return result.ok ? "" : result.code;
}

describe("verifyRequest refuses crafted v1 signatures", () => {
  it("accepts the untouched request (the baseline of every case below)", () => {
    expect(verifyV1(good).ok).toBe(true);
  });

  it("refuses a signature whose characters only share their low byte with the real one", () => {
    // latin1 encoding keeps the low byte: U+0141 "Ł" would then equal "A" (0x41).
    const lookalike = [...entry].map((c) => String.fromCharCode(0x100 + c.charCodeAt(0))).join("");
    expect(refused(verifyV1({ ...good, "webhook-signature": `v1,${lookalike}` }))).toBe(
      "no_matching_signature",
    );
  });

  it.each([
    ["an empty entry", "v1,"],
    ["only spaces after the prefix", "v1,   "],
    ["the prefix alone, twice", "v1, v1,"],
    ["whitespace inside the base64", `v1,${entry.slice(0, 10)} ${entry.slice(10)}`],
    ["the base64 without its padding", `v1,${entry.replace(/=+$/, "")}`],
    ["another version's prefix", `v1a,${entry}`],
    ["an upper-case prefix", `V1,${entry}`],
    ["the raw digest in hex", `v1,${Buffer.from(entry, "base64").toString("hex")}`],
  ])("refuses %s", (_what, signature) => {
    expect(refused(verifyV1({ ...good, "webhook-signature": signature }))).toBe("no_matching_signature");
  });

  it.each([
    ["a leading +", `+${T}`],
    ["a minus sign", `-${T}`],
    ["an exponent", "1.7672688e9"],
    ["a fraction", `${T}.0`],
    ["hex", `0x${T.toString(16)}`],
    ["an ISO time", "2026-01-01T12:00:00Z"],
    ["16 digits", "1".repeat(16)],
    ["an inner space", `${String(T).slice(0, 4)} ${String(T).slice(4)}`],
  ])("refuses a webhook-timestamp with %s as malformed", (_what, ts) => {
    expect(refused(verifyV1({ ...good, "webhook-timestamp": ts }))).toBe("malformed_timestamp");
  });

  it("refuses a huge or zero timestamp as outside tolerance, not as a match", () => {
    expect(refused(verifyV1({ ...good, "webhook-timestamp": "999999999999999" }))).toBe("outside_tolerance");
    expect(refused(verifyV1({ ...good, "webhook-timestamp": "0" }))).toBe("outside_tolerance");
  });

  it("refuses repeated webhook-id or webhook-timestamp headers (Node gives them as arrays)", () => {
    expect(refused(verifyV1({ ...good, "webhook-id": ["msg_1", "msg_1"] }))).toBe("malformed_id");
    const ts = String(T);
    expect(refused(verifyV1({ ...good, "webhook-timestamp": [ts, ts] }))).toBe("malformed_timestamp");
  });

  it("accepts a signature header repeated as an array when one of the entries matches", () => {
    const other = signRequest({ body: BODY, secrets: "x".repeat(40), id: "msg_1", timestamp: T });
    const headers = { ...good, "webhook-signature": [other["webhook-signature"], good["webhook-signature"]] };
    const result = verifyV1(headers);
    expect(result.ok).toBe(true);
  });

  it("does not let a valid signature for one id or timestamp pass for another", () => {
    expect(refused(verifyV1({ ...good, "webhook-id": "msg_2" }))).toBe("no_matching_signature");
    expect(refused(verifyV1({ ...good, "webhook-timestamp": String(T + 1) }))).toBe("no_matching_signature");
    // A leading zero is other signed text, even though it is the same number.
    expect(refused(verifyV1({ ...good, "webhook-timestamp": `0${T}` }))).toBe("no_matching_signature");
  });
});

describe("verifyRequest refuses crafted legacy signatures", () => {
  const legacy = signLegacyRequest({ body: BODY, secrets: SECRET, timestamp: T });
  const verifyLegacy = (headers: Record<string, string>) =>
    verifyRequest({ body: BODY, secrets: SECRET, now: T, headers, acceptLegacy: true });

  it("accepts the untouched legacy request", () => {
    expect(verifyLegacy(legacy).ok).toBe(true);
  });

  it.each([
    ["a leading +", `+${T}`],
    ["an exponent", "1.7672688e9"],
    ["a minus sign", `-${T}`],
    ["an inner space", `${String(T).slice(0, 4)} ${String(T).slice(4)}`],
  ])("refuses an X-Webhook-Timestamp with %s as malformed", (_what, ts) => {
    expect(refused(verifyLegacy({ ...legacy, "x-webhook-timestamp": ts }))).toBe("malformed_timestamp");
  });

  it.each([
    ["an empty signature after sha256=", "sha256="],
    ["a truncated signature", legacy["x-webhook-signature"].slice(0, 63)],
    ["a signature with a trailing character", `${legacy["x-webhook-signature"]}0`],
    ["base64 instead of hex", Buffer.from(legacy["x-webhook-signature"], "hex").toString("base64")],
  ])("refuses %s", (_what, signature) => {
    expect(refused(verifyLegacy({ ...legacy, "x-webhook-signature": signature }))).toBe(
      "no_matching_signature",
    );
  });
});
