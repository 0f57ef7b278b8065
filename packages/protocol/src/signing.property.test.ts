import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signLegacyRequest, signRequest, verifyRequest } from "./signing.js";

// Arbitraries. Secrets are valid by construction: raw text of 32+ non-space characters, or whsec_ bytes.
const rawSecret = fc
  .string({ unit: "grapheme", minLength: 32, maxLength: 64 })
  .filter((s) => !/\s/.test(s) && [...s].length >= 32);
const whsecSecret = fc
  .uint8Array({ minLength: 24, maxLength: 64 })
  .map((b) => `whsec_${Buffer.from(b).toString("base64")}`);
const secret = fc.oneof(rawSecret, whsecSecret);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: "binary", maxLength: 512 }),
  fc.json().map((j) => Buffer.from(j)),
);
const id = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 256,
});
const timestamp = fc.integer({ min: 0, max: 2 ** 40 });

const bytesOf = (b: string | Uint8Array) => (typeof b === "string" ? Buffer.from(b, "utf8") : Buffer.from(b));

describe("sign → verify (properties)", () => {
  it("round-trips arbitrary bodies, ids, secrets and timestamps", () => {
    fc.assert(
      fc.property(body, id, secret, timestamp, (b, i, s, ts) => {
        const headers = signRequest({ body: b, secrets: s, id: i, timestamp: ts });
        expect(verifyRequest({ body: b, headers, secrets: s, now: ts })).toEqual({
          ok: true,
          id: i,
          scheme: "v1",
          timestamp: ts,
          secretIndex: 0,
        });
        // The receiver sees bytes, whatever the sender passed.
        expect(verifyRequest({ body: bytesOf(b), headers, secrets: [s], now: ts }).ok).toBe(true);
      }),
    );
  });

  it("fails when any byte of the body changes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        secret,
        (b, at, flip, s) => {
          const headers = signRequest({ body: b, secrets: s, id: "msg", timestamp: 1000 });
          const changed = Uint8Array.from(b);
          const index = at % changed.length;
          changed[index] = (changed[index] ?? 0) ^ flip;
          const result = verifyRequest({ body: changed, headers, secrets: s, now: 1000 });
          expect(result).toMatchObject({ ok: false, code: "no_matching_signature" });
        },
      ),
    );
  });

  it("fails when the body is cut or extended", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (b, extra) => {
          const headers = signRequest({ body: b, secrets: "x".repeat(32), id: "msg", timestamp: 1000 });
          const longer = Buffer.concat([b, extra]);
          expect(verifyRequest({ body: longer, headers, secrets: "x".repeat(32), now: 1000 }).ok).toBe(false);
          expect(
            verifyRequest({
              body: longer,
              headers: signRequest({ body: longer, secrets: "x".repeat(32), id: "msg", timestamp: 1000 }),
              secrets: "x".repeat(32),
              now: 1000,
            }).ok,
          ).toBe(true);
          if (b.length > 0) {
            expect(
              verifyRequest({ body: b.subarray(1), headers, secrets: "x".repeat(32), now: 1000 }).ok,
            ).toBe(false);
          }
        },
      ),
    );
  });

  it("fails when any character of the id changes", () => {
    fc.assert(
      fc.property(id, fc.nat(), fc.integer({ min: 1, max: 0x5d }), body, (i, at, shift, b) => {
        const headers = signRequest({ body: b, secrets: "s".repeat(40), id: i, timestamp: 1000 });
        const index = at % i.length;
        // Rotate the character inside 0x21..0x7e so the id stays valid but differs.
        const c = ((i.charCodeAt(index) - 0x21 + shift) % 0x5e) + 0x21;
        const changed = i.slice(0, index) + String.fromCharCode(c) + i.slice(index + 1);
        const result = verifyRequest({
          body: b,
          headers: { ...headers, "webhook-id": changed },
          secrets: "s".repeat(40),
          now: 1000,
        });
        expect(result).toMatchObject({ ok: false, code: "no_matching_signature" });
      }),
    );
  });

  it("fails when the timestamp changes, even inside the window", () => {
    fc.assert(
      fc.property(
        timestamp,
        fc.integer({ min: -300, max: 300 }).filter((d) => d !== 0),
        body,
        (ts, delta, b) => {
          fc.pre(ts + delta >= 0);
          const headers = signRequest({ body: b, secrets: "s".repeat(40), id: "msg", timestamp: ts });
          const moved = { ...headers, "webhook-timestamp": String(ts + delta) };
          const result = verifyRequest({ body: b, headers: moved, secrets: "s".repeat(40), now: ts });
          expect(result).toMatchObject({ ok: false, code: "no_matching_signature" });
        },
      ),
    );
  });

  it("accepts ±300 s and refuses ±301 s (default tolerance), for both schemes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 301, max: 2 ** 40 }), fc.constantFrom(-1, 1), body, (ts, sign, b) => {
        const s = "s".repeat(40);
        const v1 = signRequest({ body: b, secrets: s, id: "msg", timestamp: ts });
        const legacy = signLegacyRequest({ body: b, secrets: s, timestamp: ts });
        for (const headers of [v1, legacy]) {
          const at = (now: number) =>
            verifyRequest({ body: b, headers, secrets: s, now, acceptLegacy: true });
          expect(at(ts + sign * 300).ok).toBe(true);
          expect(at(ts + sign * 301)).toMatchObject({ ok: false, code: "outside_tolerance" });
        }
      }),
    );
  });

  it("rotation: the sender signs with two and either one verifies; the receiver holds two and either signs", () => {
    fc.assert(
      fc.property(secret, secret, body, (oldSecret, newSecret, b) => {
        fc.pre(oldSecret !== newSecret);
        const both = signRequest({ body: b, secrets: [oldSecret, newSecret], id: "msg", timestamp: 1000 });
        for (const receiver of [oldSecret, newSecret]) {
          expect(verifyRequest({ body: b, headers: both, secrets: receiver, now: 1000 }).ok).toBe(true);
        }
        for (const [index, sender] of [oldSecret, newSecret].entries()) {
          const headers = signRequest({ body: b, secrets: sender, id: "msg", timestamp: 1000 });
          const result = verifyRequest({ body: b, headers, secrets: `${oldSecret} ${newSecret}`, now: 1000 });
          expect(result).toMatchObject({ ok: true, secretIndex: index });
        }
      }),
    );
  });

  it("legacy is refused unless enabled, then verifies", () => {
    fc.assert(
      fc.property(body, secret, timestamp, fc.boolean(), (b, s, ts, prefix) => {
        const headers = signLegacyRequest({ body: b, secrets: s, timestamp: ts, prefix });
        const off = verifyRequest({ body: b, headers, secrets: s, now: ts });
        expect(off).toMatchObject({ ok: false, code: "missing_headers" });
        expect(verifyRequest({ body: b, headers, secrets: s, now: ts, acceptLegacy: true })).toMatchObject({
          ok: true,
          scheme: "legacy",
          timestamp: ts,
        });
      }),
    );
  });

  it("finds the headers whatever the case of their names", () => {
    const anyCase = (name: string) =>
      fc
        .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
        .map((upper) => [...name].map((c, k) => (upper[k] ? c.toUpperCase() : c)).join(""));
    fc.assert(
      fc.property(
        anyCase("webhook-id"),
        anyCase("webhook-timestamp"),
        anyCase("webhook-signature"),
        (a, b, c) => {
          const h = signRequest({ body: "{}", secrets: "s".repeat(40), id: "msg", timestamp: 1000 });
          const headers = { [a]: h["webhook-id"], [b]: h["webhook-timestamp"], [c]: h["webhook-signature"] };
          expect(verifyRequest({ body: "{}", headers, secrets: "s".repeat(40), now: 1000 }).ok).toBe(true);
        },
      ),
    );
  });
});
