import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatShareLink, parseShareLink } from "./links.js";
import { linkArbitraries } from "./test-support/arbitraries.js";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const b64text = (s: string) => Buffer.from(s, "utf8").toString("base64url");
const anyString = fc.string({ unit: "binary", maxLength: 200 });

/** Parsing never throws; and whatever parses can be written back and reads back the same. */
function checkHostile(input: string): void {
  const first = parseShareLink(input);
  expect(typeof first.ok).toBe("boolean");
  if (!first.ok) {
    expect(first.error.length).toBeGreaterThan(0);
    return;
  }
  const text = formatShareLink(first.link);
  const second = parseShareLink(text);
  expect(second.ok).toBe(true);
  if (second.ok) expect(formatShareLink(second.link)).toBe(text);
}

describe("parseShareLink on hostile input", () => {
  it("never throws on arbitrary strings", () => {
    fc.assert(fc.property(anyString, checkHostile), { numRuns: 500 });
  });

  const schemes = [
    "vmess",
    "vless",
    "trojan",
    "ss",
    "ssr",
    "hysteria2",
    "hy2",
    "tuic",
    "socks",
    "socks5",
    "http",
    "https",
  ];

  it.each(schemes)("never throws on %s:// + arbitrary text or base64 bytes", (scheme) => {
    const payload = fc.oneof(
      anyString,
      fc.uint8Array({ maxLength: 200 }).map(b64),
      anyString.map(b64text),
      // Shapes close to real links, so the deeper code paths run too.
      fc
        .tuple(
          anyString,
          fc.constantFrom("192.0.2.1", "[2001:db8::1]", "a.example", ""),
          anyString,
          anyString,
        )
        .map(([user, host, port, tail]) => `${user}@${host}:${port}${tail}`),
    );
    fc.assert(
      fc.property(payload, (p) => checkHostile(`${scheme}://${p}`)),
      { numRuns: 150 },
    );
  });

  it("never throws on vmess:// + base64 of arbitrary JSON", () => {
    const config = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          add: fc.oneof(fc.string(), fc.constant("192.0.2.1"), fc.integer()),
          port: fc.oneof(fc.integer(), fc.string(), fc.double()),
          id: fc.oneof(fc.uuid(), fc.string(), fc.constant(null)),
          aid: fc.oneof(fc.integer(), fc.string()),
          ps: fc.string({ unit: "binary" }),
          net: fc.jsonValue(),
          tls: fc.jsonValue(),
          extra: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(config, (c) => checkHostile(`vmess://${b64text(JSON.stringify(c) ?? "")}`)),
      { numRuns: 300 },
    );
  });

  it("never throws on ssr:// + base64 of colon-separated arbitrary fields", () => {
    const body = fc.array(anyString, { minLength: 1, maxLength: 8 }).map((parts) => parts.join(":"));
    fc.assert(
      fc.property(body, anyString, (b, q) => checkHostile(`ssr://${b64text(`${b}/?${q}`)}`)),
      { numRuns: 200 },
    );
  });

  it("never throws on legacy ss:// + base64 of method:password@host:port-like text", () => {
    const body = fc.tuple(anyString, anyString, anyString).map(([a, b, c]) => `${a}:${b}@${c}`);
    fc.assert(
      fc.property(body, (b) => checkHostile(`ss://${b64text(b)}`)),
      { numRuns: 200 },
    );
  });
});

describe("near-valid links: whatever parses reads back the same ShareLink", () => {
  // Generators that mostly produce *parseable* links, so the deep paths of every parser run.
  const piece = fc.string({
    unit: fc.constantFrom(...'aZ09:@/?#&=%[]-_.+,;!~ \n\u0000é🇨"\\'),
    maxLength: 12,
  });
  const b64url = (s: string) => Buffer.from(s, "utf8").toString("base64url");

  /** parse(format(parse(x))) equals parse(x), and formatting is a fixed point. */
  function checkRoundTrip(input: string): void {
    const first = parseShareLink(input);
    if (!first.ok) return;
    const text = formatShareLink(first.link);
    const second = parseShareLink(text);
    if (!second.ok) throw new Error(`${input} → ${text} did not parse: ${second.error}`);
    expect(second.link).toEqual(first.link);
    expect(formatShareLink(second.link)).toBe(text);
  }

  it("URL-form schemes with arbitrary userinfo, hosts, ports and parameters", () => {
    const scheme = fc.constantFrom("vmess", "vless", "trojan", "ss", "hy2", "tuic", "socks", "http", "https");
    const host = fc.constantFrom("192.0.2.1", "[2001:db8::1]", "A.example", "[::ffff:192.0.2.2]", "x");
    const port = fc.constantFrom("443", "1", "65535", "443,1000-2000", "0", "");
    const key = fc.constantFrom(
      "type",
      "security",
      "sni",
      "path",
      "serviceName",
      "host",
      "allowInsecure",
      "insecure",
      "plugin",
      "pbk",
      "flow",
      "encryption",
      "peer",
      "mport",
      "aid",
      "tls",
      "x",
    );
    const query = fc
      .array(fc.tuple(key, piece), { maxLength: 5 })
      .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join("&"));
    const ssUserinfo = fc
      .tuple(fc.constantFrom("aes-256-gcm", "2022-blake3-aes-128-gcm", " "), piece)
      .map(([m, p]) => b64url(`${m}:${p}`));
    const userinfo = fc.oneof(
      piece,
      ssUserinfo,
      fc.uuid(),
      fc.tuple(fc.uuid(), piece).map(([u, p]) => `${u}:${p}`),
    );
    const link = fc
      .tuple(scheme, userinfo, host, port, fc.constantFrom("", "/"), query, piece)
      .map(([s, u, h, p, slash, q, f]) => `${s}://${u}@${h}:${p}${slash}?${q}#${f}`);
    fc.assert(fc.property(link, checkRoundTrip), { numRuns: 1500 });
  });

  it("vmess JSON with arbitrary values under the v2rayN keys", () => {
    const value = fc.oneof(
      piece,
      fc.integer({ min: -5, max: 70_000 }),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
    );
    const key = fc.constantFrom(
      ..."v ps add port id aid scy net type host path tls sni alpn fp pbk sid spx flow allowInsecure x".split(
        " ",
      ),
    );
    const config = fc
      .dictionary(key, value)
      .map((c) => ({ add: "192.0.2.1", port: 443, id: "00000000-0000-4000-8000-000000000000", ...c }));
    fc.assert(
      fc.property(config, fc.boolean(), (c, urlSafe) => {
        checkRoundTrip(
          `vmess://${Buffer.from(JSON.stringify(c)).toString(urlSafe ? "base64url" : "base64")}`,
        );
      }),
      { numRuns: 1500 },
    );
  });

  it("ssr and legacy ss payloads with arbitrary fields", () => {
    const host = fc.constantFrom("192.0.2.1", "2001:db8::1", "[2001:db8::1]", "a.example", "");
    const port = fc.constantFrom("443", "0", "x", "");
    const param = fc.tuple(fc.constantFrom("obfsparam", "protoparam", "remarks", "group", "x"), piece);
    const ssr = fc
      .tuple(host, port, piece, piece, piece, piece, fc.array(param, { maxLength: 4 }), fc.boolean())
      .map(([h, p, proto, method, obfs, pass, q, enc]) => {
        const e = (v: string) => (enc ? b64url(v) : v);
        return `${h}:${p}:${proto}:${method}:${obfs}:${e(pass)}/?${q.map(([k, v]) => `${k}=${e(v)}`).join("&")}`;
      });
    const legacy = fc.tuple(piece, piece, host, port).map(([m, p, h, pt]) => `${m}:${p}@${h}:${pt}`);
    fc.assert(
      fc.property(ssr, legacy, piece, (s, l, name) => {
        checkRoundTrip(`ssr://${b64url(s)}`);
        checkRoundTrip(`ss://${Buffer.from(l).toString("base64")}#${name}`);
      }),
      { numRuns: 1500 },
    );
  });
});

describe("parse → format → parse is stable", () => {
  it.each(Object.keys(linkArbitraries))("for %s links", (scheme) => {
    const arb = linkArbitraries[scheme as keyof typeof linkArbitraries];
    fc.assert(
      fc.property(arb, (link) => {
        const text = formatShareLink(link);
        const back = parseShareLink(text);
        if (!back.ok) throw new Error(`${text} did not parse: ${back.error}`);
        expect(back.link).toEqual(link);
        expect(formatShareLink(back.link)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
