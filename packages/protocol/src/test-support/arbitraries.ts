/**
 * fast-check arbitraries of ShareLinks in canonical form (what the parser produces), one per
 * scheme. Test-only: nothing outside *.test.ts imports this file.
 */
import fc from "fast-check";
import { cleanName, toWellFormed } from "../links/text.js";
import type { ShareLink } from "../types.js";

/** Any well-formed text, control characters and astral characters included. */
export const anyText = fc.string({ unit: "binary", maxLength: 24 }).map(toWellFormed);
const someText = anyText.filter((s) => s !== "");
/** Non-empty text without surrounding blanks (vmess JSON values are trimmed). */
const trimmedText = anyText.map((s) => s.trim()).filter((s) => s !== "");
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

export const hostArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6().map((h) => new URL(`http://[${h}]/`).hostname.slice(1, -1)),
  fc.domain().map((h) => h.toLowerCase()),
);
export const portArb = fc.integer({ min: 1, max: 65535 });
export const nameArb = anyText.map(cleanName);
const paramsArb = (value: fc.Arbitrary<string>) =>
  fc.dictionary(
    fc.string({ unit: fc.constantFrom(..."abcxyz_-.0189"), minLength: 1, maxLength: 6 }).map((k) => `x_${k}`),
    value,
    {
      maxKeys: 3,
    },
  );
const flagArb = opt(fc.boolean());
const networkArb = fc.constantFrom("tcp", "ws", "grpc", "h2", "httpupgrade", "xhttp", "kcp");

/** Keeps only the keys whose value is defined, as the parser builds links. */
function compact(link: ShareLink): ShareLink {
  return Object.fromEntries(Object.entries(link).filter(([, v]) => v !== undefined)) as unknown as ShareLink;
}

const xrayTransport = {
  network: networkArb,
  path: opt(someText),
  hostHeader: opt(someText),
  sni: opt(someText),
  alpn: opt(someText),
  fingerprint: opt(someText),
  realityPublicKey: opt(someText),
  realityShortId: opt(someText),
  realitySpiderX: opt(someText),
  flow: opt(someText),
  headerType: opt(someText),
  allowInsecure: flagArb,
};

const vless = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    uuid: fc.uuid(),
    encryption: opt(someText),
    security: fc.constantFrom("none", "tls", "reality"),
    params: paramsArb(anyText),
    ...xrayTransport,
  })
  .map((r): ShareLink => compact({ protocol: "vless", ...r }));

const trojan = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    password: someText,
    security: fc.constantFrom("tls", "none", "reality"),
    params: paramsArb(anyText),
    ...xrayTransport,
  })
  .map((r): ShareLink => compact({ protocol: "trojan", ...r }));

const vmess = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    uuid: fc.uuid(),
    alterId: opt(fc.nat({ max: 1000 })),
    method: opt(trimmedText),
    network: networkArb,
    headerType: opt(trimmedText),
    hostHeader: opt(trimmedText),
    path: opt(trimmedText),
    security: fc.constantFrom("none", "tls"),
    sni: opt(trimmedText),
    alpn: opt(trimmedText),
    fingerprint: opt(trimmedText),
    allowInsecure: flagArb,
    params: paramsArb(anyText),
  })
  .map((r): ShareLink => compact({ protocol: "vmess", ...r }));

const ss = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    method: fc.constantFrom(
      "aes-256-gcm",
      "aes-128-gcm",
      "chacha20-ietf-poly1305",
      "2022-blake3-aes-128-gcm",
      "rc4-md5",
    ),
    password: anyText,
    plugin: opt(someText),
    params: paramsArb(anyText),
  })
  .map((r): ShareLink => compact({ protocol: "ss", network: "tcp", security: "none", ...r }));

const ssr = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    password: anyText,
    method: fc.constantFrom("aes-256-cfb", "chacha20", "none"),
    ssrProtocol: fc.constantFrom("origin", "auth_aes128_md5", "auth_chain_a"),
    ssrProtocolParam: opt(someText),
    obfs: fc.constantFrom("plain", "http_simple", "tls1.2_ticket_auth"),
    obfsParam: opt(someText),
    params: paramsArb(someText),
  })
  .map((r): ShareLink => compact({ protocol: "ssr", network: "tcp", security: "none", ...r }));

const hysteria2 = fc
  .record({
    host: hostArb,
    port: portArb,
    hop: opt(fc.tuple(portArb, portArb)),
    name: nameArb,
    password: opt(someText),
    security: fc.constantFrom("tls", "none"),
    sni: opt(someText),
    alpn: opt(someText),
    fingerprint: opt(someText),
    allowInsecure: flagArb,
    params: paramsArb(anyText),
  })
  .map(({ hop, ...r }): ShareLink => {
    const ports = hop === undefined ? undefined : `${r.port},${Math.min(...hop)}-${Math.max(...hop)}`;
    return compact({ protocol: "hysteria2", network: "tcp", ports, ...r });
  });

const tuic = fc
  .record({
    host: hostArb,
    port: portArb,
    name: nameArb,
    uuid: fc.uuid(),
    password: opt(anyText),
    security: fc.constantFrom("tls", "none"),
    sni: opt(someText),
    alpn: opt(someText),
    allowInsecure: flagArb,
    params: paramsArb(anyText),
  })
  .map((r): ShareLink => compact({ protocol: "tuic", network: "tcp", ...r }));

const plainProxy = fc
  .record({
    protocol: fc.constantFrom("socks5" as const, "http" as const, "https" as const),
    host: hostArb,
    port: portArb,
    name: nameArb,
    credentials: opt(fc.tuple(anyText, anyText)),
    params: paramsArb(anyText),
  })
  .map(
    ({ credentials, ...r }): ShareLink =>
      compact({
        network: "tcp",
        security: "none",
        username: credentials?.[0],
        password: credentials?.[1],
        ...r,
      }),
  );

export const linkArbitraries = { vless, trojan, vmess, ss, ssr, hysteria2, tuic, plainProxy };
export const anyLinkArb = fc.oneof(...Object.values(linkArbitraries));
