import { createHash, createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { SecretError } from "./secrets.js";
import {
  SIGNATURE_HEADERS,
  signLegacyRequest,
  signRequest,
  uuidV7,
  type VerifyRequestOptions,
  type VerifyResult,
  verifyRequest,
} from "./signing.js";

const SECRET = "a-raw-secret-for-unit-tests-0123456789";
const OTHER = "another-raw-secret-for-unit-tests-9876";
const T = 1767268800;
const BODY = '{"event_type":"test_push","nodes":[]}';

function verifyAt(
  options: Partial<VerifyRequestOptions> & Pick<VerifyRequestOptions, "headers">,
): VerifyResult {
  return verifyRequest({ body: BODY, secrets: SECRET, now: T, ...options });
}

function expectFailure(result: VerifyResult, code: string, reason: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.reason).toMatch(reason);
}

const signed = () => signRequest({ body: BODY, secrets: SECRET, id: "msg_1", timestamp: T });

describe("signRequest", () => {
  it("signs {id}.{timestamp}.{body} with HMAC-SHA256, base64, v1 prefix (computed by hand here)", () => {
    const expected = createHmac("sha256", SECRET).update(`msg_1.${T}.${BODY}`).digest("base64");
    expect(signed()).toEqual({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(T),
      "webhook-signature": `v1,${expected}`,
    });
  });

  it("writes one space-separated entry per secret, in order", () => {
    const headers = signRequest({ body: BODY, secrets: `${SECRET} ${OTHER}`, id: "msg_1", timestamp: T });
    const entries = headers["webhook-signature"].split(" ");
    expect(entries).toHaveLength(2);
    expect(entries[0]).toBe(signed()["webhook-signature"]);
    expect(signRequest({ body: BODY, secrets: [SECRET, OTHER], id: "msg_1", timestamp: T })).toEqual(headers);
  });

  it("defaults to a UUIDv7 id and the current unix second", () => {
    const before = Math.floor(Date.now() / 1000);
    const headers = signRequest({ body: BODY, secrets: SECRET });
    expect(headers["webhook-id"]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const ts = Number(headers["webhook-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(verifyRequest({ body: BODY, headers, secrets: SECRET }).ok).toBe(true);
  });

  it("treats a string body as its UTF-8 bytes, and every byte view alike", () => {
    const text = '{"name":"新加坡节点 🚀"}';
    const bytes = Buffer.from(text, "utf8");
    const pooled = Buffer.concat([Buffer.from("xx"), bytes]).subarray(2); // non-zero byteOffset
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const sign = (body: VerifyRequestOptions["body"]) =>
      signRequest({ body, secrets: SECRET, id: "m", timestamp: T })["webhook-signature"];
    const reference = sign(text);
    for (const body of [bytes, new Uint8Array(bytes), pooled, arrayBuffer, new DataView(arrayBuffer)]) {
      expect(sign(body)).toBe(reference);
    }
  });

  it.each([
    ["an empty id", ""],
    ["an id with a space", "msg 1"],
    ["a non-ASCII id", "msg_é"],
    ["an id of 257 characters", "a".repeat(257)],
  ])("refuses %s with a TypeError", (_what, id) => {
    expect(() => signRequest({ body: BODY, secrets: SECRET, id })).toThrow(
      /^@viper\/protocol: signRequest: id/,
    );
  });

  it("accepts an id of 256 visible ASCII characters", () => {
    const id = "~".repeat(256);
    expect(
      verifyAt({ headers: signRequest({ body: BODY, secrets: SECRET, id, timestamp: T }) }),
    ).toMatchObject({
      ok: true,
      id,
    });
  });

  it.each([-1, 1.5, Number.NaN])("refuses timestamp %s with a TypeError", (timestamp) => {
    expect(() => signRequest({ body: BODY, secrets: SECRET, timestamp })).toThrow(TypeError);
  });

  it("refuses a parsed object or nothing as body", () => {
    for (const body of [{ event_type: "test_push" }, null, undefined, 42, [1, 2]]) {
      expect(() => signRequest({ body: body as never, secrets: SECRET })).toThrow(
        /^@viper\/protocol: signRequest: body must be the raw request bytes/,
      );
    }
  });

  it("refuses bad secrets with a SecretError, every time (refusals are not remembered)", () => {
    expect(() => signRequest({ body: BODY, secrets: "short" })).toThrow(SecretError);
    expect(() => signRequest({ body: BODY, secrets: "short" })).toThrow(SecretError);
    expect(() => verifyAt({ headers: signed(), secrets: ["short"] })).toThrow(
      /WEBHOOK_SECRET is 5 characters/,
    );
    expect(() => signRequest({ body: BODY, secrets: [] })).toThrow(/WEBHOOK_SECRET is empty/);
  });
});

describe("verifyRequest", () => {
  it("accepts a signed request and reports id, scheme, timestamp and the matching secret", () => {
    expect(verifyAt({ headers: signed() })).toEqual({
      ok: true,
      id: "msg_1",
      scheme: "v1",
      timestamp: T,
      secretIndex: 0,
    });
    expect(verifyAt({ headers: signed(), secrets: [OTHER, SECRET] })).toMatchObject({
      ok: true,
      secretIndex: 1,
    });
  });

  it("finds headers in any case, in a fetch Headers, and in Node's repeated-value arrays", () => {
    const h = signed();
    const shouting = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyAt({ headers: shouting }).ok).toBe(true);
    expect(verifyAt({ headers: new Headers(h) }).ok).toBe(true);
    const other = signRequest({ body: BODY, secrets: OTHER, id: "msg_1", timestamp: T })["webhook-signature"];
    const repeated: IncomingHttpHeaders = { ...h, "webhook-signature": [other, h["webhook-signature"]] };
    expect(verifyAt({ headers: repeated as VerifyRequestOptions["headers"] }).ok).toBe(true);
  });

  it("accepts a signature header repeated in a fetch Headers (joined with a comma)", () => {
    const h = signed();
    const headers = new Headers({
      "webhook-id": h["webhook-id"],
      "webhook-timestamp": h["webhook-timestamp"],
    });
    headers.append("webhook-signature", "v1,bm90LXRoaXMtb25l");
    headers.append("webhook-signature", h["webhook-signature"]);
    expect(headers.get("webhook-signature")).toContain(", ");
    expect(verifyAt({ headers }).ok).toBe(true);
  });

  it("accepts a body given as string, Buffer, Uint8Array or ArrayBuffer", () => {
    const bytes = Buffer.from(BODY);
    for (const body of [BODY, bytes, new Uint8Array(bytes), new Uint8Array(bytes).buffer]) {
      expect(verifyAt({ headers: signed(), body }).ok).toBe(true);
    }
  });

  it("throws a TypeError for a parsed body: the bytes are what was signed", () => {
    expect(() => verifyAt({ headers: signed(), body: JSON.parse(BODY) })).toThrow(
      /^@viper\/protocol: verifyRequest: body must be the raw request bytes.*before JSON\.parse/,
    );
  });

  it("throws a TypeError for a nonsense now or toleranceS", () => {
    expect(() => verifyAt({ headers: signed(), now: Number.NaN })).toThrow(TypeError);
    expect(() => verifyAt({ headers: signed(), toleranceS: -1 })).toThrow(TypeError);
  });

  it("missing_headers when unsigned", () => {
    expectFailure(verifyAt({ headers: {} }), "missing_headers", /not signed/);
    expectFailure(
      verifyAt({ headers: { "content-type": "application/json" } }),
      "missing_headers",
      /not signed/,
    );
  });

  it("missing_headers naming the absent v1 header (an empty value counts as absent)", () => {
    const { "webhook-signature": _, ...rest } = signed();
    expectFailure(verifyAt({ headers: rest }), "missing_headers", /missing webhook-signature/);
    expectFailure(
      verifyAt({ headers: { ...signed(), "webhook-id": "  " } }),
      "missing_headers",
      /webhook-id/,
    );
  });

  it("malformed_id for an id that is not 1-256 visible ASCII characters", () => {
    const h = { ...signed(), "webhook-id": "a".repeat(257) };
    expectFailure(verifyAt({ headers: h }), "malformed_id", /webhook-id must be 1-256/);
    expectFailure(verifyAt({ headers: { ...signed(), "webhook-id": "ïd" } }), "malformed_id", /webhook-id/);
  });

  it.each(["1767268800.5", "-1767268800", "2026-01-01T12:00:00Z", "0x69566c40", "1e9"])(
    "malformed_timestamp for webhook-timestamp %s",
    (ts) => {
      expectFailure(
        verifyAt({ headers: { ...signed(), "webhook-timestamp": ts } }),
        "malformed_timestamp",
        /unix/,
      );
    },
  );

  it("outside_tolerance in both directions, with the skew in the reason, before any HMAC", () => {
    expectFailure(verifyAt({ headers: signed(), now: T + 301 }), "outside_tolerance", /301 s in the past/);
    expectFailure(verifyAt({ headers: signed(), now: T - 301 }), "outside_tolerance", /301 s in the future/);
    expect(verifyAt({ headers: signed(), now: T + 301, toleranceS: 301 }).ok).toBe(true);
    // Timestamp outside the window and a wrong signature: the clock is reported (it is the actionable cause).
    expectFailure(
      verifyAt({ headers: signed(), now: T + 301, secrets: OTHER }),
      "outside_tolerance",
      /tolerance/,
    );
  });

  it("no_matching_signature, the reason saying signature, for a tampered body or another secret", () => {
    expectFailure(verifyAt({ headers: signed(), body: `${BODY} ` }), "no_matching_signature", /signature/);
    expectFailure(
      verifyAt({ headers: signed(), secrets: OTHER }),
      "no_matching_signature",
      /no matching signature/,
    );
  });

  it("no_matching_signature, not an exception, for entries of any length or version", () => {
    for (const sig of [
      "v1,",
      "v1,AAAA",
      "v1,!!!",
      "v2,abc",
      `v1a,${signed()["webhook-signature"].slice(3)}`,
      "x",
    ]) {
      expectFailure(
        verifyAt({ headers: { ...signed(), "webhook-signature": sig } }),
        "no_matching_signature",
        /signature/,
      );
    }
  });

  it("skips entries of other versions next to a valid one", () => {
    const h = signed();
    expect(
      verifyAt({ headers: { ...h, "webhook-signature": `v2,xyz v1a,abc ${h["webhook-signature"]}` } }).ok,
    ).toBe(true);
  });

  it("judges a request with both header sets by webhook-* alone", () => {
    const legacy = signLegacyRequest({ body: BODY, secrets: SECRET, timestamp: T });
    const badV1 = { ...signed(), "webhook-signature": "v1,AAAA", ...legacy };
    expectFailure(verifyAt({ headers: badV1, acceptLegacy: true }), "no_matching_signature", /signature/);
    const onlyId = { "webhook-id": "msg_1", ...legacy };
    expectFailure(verifyAt({ headers: onlyId, acceptLegacy: true }), "missing_headers", /webhook-timestamp/);
  });
});

describe("secrets given to sign and verify", () => {
  it("give the same result as a string, an array, and across many different lists", () => {
    for (let n = 0; n < 40; n++) {
      const mine = `${SECRET}-${n}`;
      const headers = signRequest({ body: BODY, secrets: [OTHER, mine], id: "m", timestamp: T });
      expect(verifyAt({ headers, secrets: mine })).toMatchObject({ ok: true, secretIndex: 0 });
      expect(verifyAt({ headers, secrets: `${SECRET}-${n + 1}` }).ok).toBe(false);
      expect(signRequest({ body: BODY, secrets: `${OTHER} ${mine}`, id: "m", timestamp: T })).toEqual(
        headers,
      );
    }
  });
});

describe("legacy signatures", () => {
  const legacy = (timestamp: number | string = T, prefix = false) =>
    signLegacyRequest({ body: BODY, secrets: SECRET, timestamp, prefix });

  it("signs {body}.{timestamp} as lowercase hex (computed by hand here)", () => {
    const hex = createHmac("sha256", SECRET).update(`${BODY}.${T}`).digest("hex");
    expect(legacy()).toEqual({ "x-webhook-timestamp": String(T), "x-webhook-signature": hex });
    expect(legacy(T, true)["x-webhook-signature"]).toBe(`sha256=${hex}`);
  });

  it("is refused unless enabled, and the reason says how to enable it", () => {
    expectFailure(verifyAt({ headers: legacy() }), "missing_headers", /ACCEPT_LEGACY_SIGNATURES=true/);
    expect(verifyAt({ headers: legacy(), acceptLegacy: true })).toMatchObject({ ok: true, scheme: "legacy" });
  });

  it("uses legacy_ + sha256 of the hex signature as id, the same with or without sha256=", () => {
    const hex = legacy()["x-webhook-signature"];
    const id = `legacy_${createHash("sha256").update(hex).digest("hex")}`;
    expect(verifyAt({ headers: legacy(), acceptLegacy: true })).toMatchObject({ ok: true, id, timestamp: T });
    expect(verifyAt({ headers: legacy(T, true), acceptLegacy: true })).toMatchObject({ ok: true, id });
  });

  it.each([
    ["2026-01-01T12:00:00Z", T],
    ["2026-01-01T12:00:00z", T],
    ["2026-01-01T20:00:00+08:00", T],
    ["2026-01-01T20:00:00+0800", T],
    ["2026-01-01 07:00:00-05:00", T],
    ["2026-01-01T12:00:00.250000+00:00", T + 0.25],
    ["2026-01-01T12:00Z", T],
    ["1767268800.5", T + 0.5],
  ])("reads X-Webhook-Timestamp %s", (ts, seconds) => {
    expect(verifyAt({ headers: legacy(ts), acceptLegacy: true })).toMatchObject({
      ok: true,
      timestamp: seconds,
    });
  });

  it.each(["2026-01-01T12:00:00", "2026-01-01 12:00:00.123456", "2026-01-01T12:00"])(
    "naive_timestamp for %s, saying how to add an offset",
    (ts) => {
      expectFailure(
        verifyAt({ headers: legacy(ts), acceptLegacy: true }),
        "naive_timestamp",
        /no UTC offset/,
      );
    },
  );

  it.each([
    "yesterday",
    "2026-13-01T12:00:00Z",
    "2026-02-30T12:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01",
  ])("malformed_timestamp for %s", (ts) => {
    expectFailure(verifyAt({ headers: legacy(ts), acceptLegacy: true }), "malformed_timestamp", /ISO 8601/);
  });

  it("applies the same tolerance, and rejects tampering and uppercase hex", () => {
    expectFailure(verifyAt({ headers: legacy(T - 301), acceptLegacy: true }), "outside_tolerance", /past/);
    expectFailure(
      verifyAt({ headers: legacy("2026-01-01T12:05:01Z"), acceptLegacy: true }),
      "outside_tolerance",
      /future/,
    );
    const h = legacy();
    expectFailure(
      verifyAt({ headers: h, acceptLegacy: true, body: `${BODY}x` }),
      "no_matching_signature",
      /signature/,
    );
    const upper = { ...h, "x-webhook-signature": h["x-webhook-signature"].toUpperCase() };
    expectFailure(verifyAt({ headers: upper, acceptLegacy: true }), "no_matching_signature", /lowercase hex/);
  });

  it("missing_headers when only one legacy header is present", () => {
    const { "x-webhook-timestamp": _, ...onlySignature } = legacy();
    expectFailure(
      verifyAt({ headers: onlySignature, acceptLegacy: true }),
      "missing_headers",
      /X-Webhook-Timestamp/,
    );
  });

  it("refuses a timestamp that cannot be a header value", () => {
    for (const ts of ["12\r\nx-evil: 1", " 12", "", "时间", -5]) {
      expect(() => legacy(ts)).toThrow(/^@viper\/protocol: signLegacyRequest: timestamp/);
    }
  });
});

describe("uuidV7", () => {
  it("encodes the millisecond time in its first 48 bits, with version 7 and the RFC variant", () => {
    const ms = Date.UTC(2026, 0, 1, 12);
    const id = uuidV7(ms);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
    expect(uuidV7(ms)).not.toBe(id);
  });
});

describe("over real HTTP on loopback", () => {
  it("a gzip body signed by the sender verifies from Node's IncomingHttpHeaders and raw bytes", async () => {
    const payload = Buffer.from(JSON.stringify({ event_type: "nodes_updated", nodes: [{ name: "节点" }] }));
    const wire = gzipSync(payload);
    const results: VerifyResult[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const result = verifyRequest({ body: raw, headers: req.headers, secrets: `${OTHER} ${SECRET}` });
        results.push(result);
        res.writeHead(result.ok ? 200 : 401).end(result.ok ? gunzipSync(raw) : result.reason);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const send = async (headers: Record<string, string>, body: Buffer) => {
        const req = request({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/webhook/nodes-update",
          headers,
        });
        req.end(body);
        const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
        const out: Buffer[] = [];
        for await (const chunk of res) out.push(chunk as Buffer);
        return { status: res.statusCode, body: Buffer.concat(out) };
      };
      const headers = {
        ...signRequest({ body: wire, secrets: SECRET }),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
      };
      const good = await send(headers, wire);
      expect(good.status).toBe(200);
      expect(good.body).toEqual(payload);
      expect(results[0]).toMatchObject({ ok: true, id: headers["webhook-id"], secretIndex: 1 });
      // A receiver that re-gzips (or otherwise rewrites) the body no longer matches.
      const rewritten = await send(headers, gzipSync(payload, { level: 1 }));
      expect(rewritten.status).toBe(401);
      expect(rewritten.body.toString()).toMatch(/signature/);
    } finally {
      server.close();
    }
  });
});

describe("SIGNATURE_HEADERS", () => {
  it("lists the lower-case header names of both schemes", () => {
    expect(Object.keys(signed()).sort()).toEqual(
      [SIGNATURE_HEADERS.id, SIGNATURE_HEADERS.signature, SIGNATURE_HEADERS.timestamp].sort(),
    );
    const legacyKeys = Object.keys(signLegacyRequest({ body: BODY, secrets: SECRET }));
    expect(legacyKeys).toEqual([SIGNATURE_HEADERS.legacyTimestamp, SIGNATURE_HEADERS.legacySignature]);
  });
});
