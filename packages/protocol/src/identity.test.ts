import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { credentialOf, nodeId, nodeKey } from "./identity.js";
import { formatShareLink, parseShareLink } from "./links.js";
import { anyLinkArb, nameArb, portArb } from "./test-support/arbitraries.js";
import type { ShareLink } from "./types.js";

const UUID = "9204afcd-023e-481f-9abc-c12efccd1344";
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function parsed(link: string): ShareLink {
  const r = parseShareLink(link);
  if (!r.ok) throw new Error(r.error);
  return r.link;
}

describe("nodeKey / nodeId golden values (ids are public and persisted: never change these)", () => {
  const vmess = `vmess://${b64(
    JSON.stringify({
      v: "2",
      ps: "a",
      add: "192.0.2.10",
      port: 443,
      id: UUID,
      aid: 0,
      net: "ws",
      host: "cdn.example",
      path: "/ray",
      tls: "tls",
      sni: "cdn.example",
    }),
  )}`;
  const golden: Array<[string, string, string]> = [
    [
      vmess,
      "v1|vmess|192.0.2.10|443|9204afcd-023e-481f-9abc-c12efccd1344|ws|/ray|cdn.example|tls|cdn.example",
      "n_3de15413490360d3",
    ],
    [
      `vless://${UUID}@[2001:db8::1]:443?type=grpc&serviceName=svc&security=reality&sni=www.example.com&pbk=k&sid=1#r`,
      "v1|vless|2001:db8::1|443|9204afcd-023e-481f-9abc-c12efccd1344|grpc|svc||reality|www.example.com",
      "n_db5536a815cb30e5",
    ],
    [
      "trojan://pa|ss%25@trojan.example:443#t",
      // DESIGN 3.4 writes every field as it is: `|` and `%` inside a password are not escaped.
      "v1|trojan|trojan.example|443|pa|ss%|tcp|||tls|",
      "n_26011941dc669530",
    ],
    [
      "ss://YWVzLTI1Ni1nY206cHc@198.51.100.7:8388#s",
      "v1|ss|198.51.100.7|8388|aes-256-gcm:pw|tcp|||none|",
      "n_be7a5b47bef1be3d",
    ],
    [
      "hy2://auth@203.0.113.5:443,5000-6000/?sni=h.example",
      "v1|hysteria2|203.0.113.5|443|auth|tcp|||tls|h.example",
      "n_5c440b25674e4cf5",
    ],
    ["socks://u:p@192.0.2.70:1080", "v1|socks5|192.0.2.70|1080|u:p|tcp|||none|", "n_053b087c027e6395"],
    ["http://192.0.2.72:3128", "v1|http|192.0.2.72|3128||tcp|||none|", "n_72ecfe768cb4d14b"],
    // Keys below were written by hand from DESIGN 3.4, then the ids computed from them.
    [
      `ssr://${Buffer.from(`192.0.2.40:8389:auth_chain_a:none:http_simple:${Buffer.from("pw").toString("base64url")}`).toString("base64url")}`,
      "v1|ssr|192.0.2.40|8389|auth_chain_a:none:http_simple:pw|tcp|||none|",
      "n_ba29a060815fa875",
    ],
    [
      `tuic://${UUID.toUpperCase()}:pw@192.0.2.60:443?sni=t.example&congestion_control=bbr#x`,
      `v1|tuic|192.0.2.60|443|${UUID}:pw|tcp|||tls|t.example`,
      "n_fe5c86a66000fa3d",
    ],
    ["https://u@192.0.2.73", "v1|https|192.0.2.73|443|u:|tcp|||none|", "n_67829fc29fde103f"],
  ];

  it.each(golden)("%s", (link, key, id) => {
    expect(nodeKey(parsed(link))).toBe(key);
    expect(nodeId(parsed(link))).toBe(id);
    // The id is sha256 of the key, computed here independently of nodeId.
    expect(`n_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`).toBe(id);
  });
});

describe("nodeKey rules", () => {
  it("uses each protocol's credential", () => {
    const ssr = `ssr://${Buffer.from(`192.0.2.40:8389:auth_chain_a:none:http_simple:${Buffer.from("pw").toString("base64url")}`).toString("base64url")}`;
    expect(credentialOf(parsed(ssr))).toBe("auth_chain_a:none:http_simple:pw");
    expect(credentialOf(parsed(`tuic://${UUID}:pw@192.0.2.60:443`))).toBe(`${UUID}:pw`);
    expect(credentialOf(parsed("http://u:p@192.0.2.72:3128"))).toBe("u:p");
    expect(credentialOf(parsed("socks5://192.0.2.72:1080"))).toBe("");
  });

  it("applies the security defaults: tls for trojan, hysteria2, tuic; none otherwise", () => {
    expect(nodeKey(parsed("trojan://pw@192.0.2.1:443"))).toMatch(/\|tls\|$/);
    expect(nodeKey(parsed("hysteria2://pw@192.0.2.1:443"))).toMatch(/\|tls\|$/);
    expect(nodeKey(parsed(`tuic://${UUID}:pw@192.0.2.1:443`))).toMatch(/\|tls\|$/);
    expect(nodeKey(parsed(`vless://${UUID}@192.0.2.1:443`))).toMatch(/\|none\|$/);
    // A hand-built link without network/security gets the defaults in its key too.
    const bare = {
      protocol: "trojan",
      host: "[2001:DB8::1]",
      port: 1,
      name: "",
      network: "",
      security: "",
      params: {},
    } as ShareLink;
    expect(nodeKey(bare)).toBe("v1|trojan|2001:db8::1|1||tcp|||tls|");
  });

  it("treats hy2 as hysteria2, socks as socks5, and IPv6 spellings as one host", () => {
    expect(nodeId(parsed("hy2://pw@192.0.2.1:443"))).toBe(nodeId(parsed("hysteria2://pw@192.0.2.1:443")));
    expect(nodeId(parsed("socks://u:p@192.0.2.1:1080"))).toBe(nodeId(parsed("socks5://u:p@192.0.2.1:1080")));
    expect(nodeId(parsed(`vless://${UUID}@[2001:DB8:0:0::1]:443`))).toBe(
      nodeId(parsed(`vless://${UUID}@[2001:db8::1]:443`)),
    );
  });

  it("ignores names, the host's case and the uuid's case", () => {
    const a = parsed(`vless://${UUID}@Node.Example:443?type=ws&path=%2Fp#one`);
    const b = parsed(`vless://${UUID.toUpperCase()}@node.example:443?type=ws&path=%2Fp#two`);
    expect(nodeId(a)).toBe(nodeId(b));
  });

  it("gives the same key for the same node in vmess JSON and vmess URL form", () => {
    const json = parsed(
      `vmess://${b64(JSON.stringify({ add: "192.0.2.9", port: "443", id: UUID, net: "ws", path: "/w", tls: "tls" }))}`,
    );
    const url = parsed(`vmess://${UUID}@192.0.2.9:443?type=ws&path=%2Fw&security=tls`);
    expect(nodeKey(json)).toBe(nodeKey(url));
  });

  it("separates two nodes on one host:port with different credentials", () => {
    expect(nodeId(parsed("trojan://one@192.0.2.1:443"))).not.toBe(
      nodeId(parsed("trojan://two@192.0.2.1:443")),
    );
  });
});

describe("identity properties", () => {
  it("a renamed node keeps its id", () => {
    fc.assert(
      fc.property(anyLinkArb, nameArb, (link, name) => {
        expect(nodeId({ ...link, name })).toBe(nodeId(link));
        // and through a round trip of its canonical link
        expect(nodeId(parsed(formatShareLink({ ...link, name })))).toBe(nodeId(link));
      }),
      { numRuns: 300 },
    );
  });

  it("another port changes the id", () => {
    fc.assert(
      fc.property(anyLinkArb, portArb, (link, port) => {
        fc.pre(port !== link.port);
        expect(nodeId({ ...link, port })).not.toBe(nodeId(link));
      }),
      { numRuns: 300 },
    );
  });

  it("another credential changes the id", () => {
    fc.assert(
      fc.property(anyLinkArb, fc.string({ minLength: 1, maxLength: 12 }), (link, secret) => {
        const changed: ShareLink =
          link.protocol === "vmess" || link.protocol === "vless"
            ? { ...link, uuid: `${link.uuid}${secret}` }
            : { ...link, password: `${link.password ?? ""}${secret}` };
        expect(nodeId(changed)).not.toBe(nodeId(link));
      }),
      { numRuns: 300 },
    );
  });

  it("another transport (network, path, host header, security or sni) changes the id", () => {
    const field = fc.constantFrom("network", "path", "hostHeader", "security", "sni") as fc.Arbitrary<
      "network" | "path" | "hostHeader" | "security" | "sni"
    >;
    fc.assert(
      fc.property(anyLinkArb, field, fc.string({ minLength: 1, maxLength: 8 }), (link, key, extra) => {
        const changed: ShareLink = { ...link, [key]: `${link[key] ?? ""}-${extra}` };
        expect(nodeId(changed)).not.toBe(nodeId(link));
      }),
      { numRuns: 300 },
    );
  });
});
