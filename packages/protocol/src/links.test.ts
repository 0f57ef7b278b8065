import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanName, MAX_NAME_LENGTH } from "./links/text.js";
import { formatShareLink, MAX_LINK_LENGTH, parseShareLink } from "./links.js";
import type { ShareLink } from "./types.js";

const UUID = "9204afcd-023e-481f-9abc-c12efccd1344";

function parsed(link: string): ShareLink {
  const r = parseShareLink(link);
  if (!r.ok) throw new Error(`expected ${link} to parse, got: ${r.error}`);
  return r.link;
}

function refused(link: string): string {
  const r = parseShareLink(link);
  if (r.ok) throw new Error(`expected ${link} to be refused, got ${JSON.stringify(r.link)}`);
  return r.error;
}

/** Round trip: format(parse(x)) parses back to the same link and formats to the same string. */
function expectStable(link: ShareLink): void {
  const text = formatShareLink(link);
  const again = parsed(text);
  expect(again).toEqual(link);
  expect(formatShareLink(again)).toBe(text);
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const b64url = (s: string) => Buffer.from(s, "utf8").toString("base64url");

describe("vmess (v2rayN base64 JSON)", () => {
  const config = {
    v: "2",
    ps: "SG 节点",
    add: "192.0.2.10",
    port: 443,
    id: UUID.toUpperCase(),
    aid: 0,
    scy: "auto",
    net: "ws",
    type: "none",
    host: "cdn.example",
    path: "/ray",
    tls: "tls",
    sni: "cdn.example",
    alpn: "h2,http/1.1",
    fp: "chrome",
  };

  it("reads every field, with a number port", () => {
    const link = parsed(`vmess://${b64(JSON.stringify(config))}`);
    expect(link).toEqual({
      protocol: "vmess",
      host: "192.0.2.10",
      port: 443,
      name: "SG 节点",
      uuid: UUID,
      alterId: 0,
      method: "auto",
      network: "ws",
      headerType: "none",
      hostHeader: "cdn.example",
      path: "/ray",
      security: "tls",
      sni: "cdn.example",
      alpn: "h2,http/1.1",
      fingerprint: "chrome",
      params: {},
    });
    expectStable(link);
  });

  it("reads string port and aid the same as numbers", () => {
    const asNumbers = parsed(`vmess://${b64(JSON.stringify(config))}`);
    const asStrings = parsed(`vmess://${b64(JSON.stringify({ ...config, port: "443", aid: "0" }))}`);
    expect(asStrings).toEqual(asNumbers);
  });

  it("reads url-safe base64 and base64 without padding", () => {
    const json = JSON.stringify({ ...config, ps: "??>>~~" }); // makes + and / appear in std base64
    const std = b64(json);
    expect(std).toMatch(/[+/]/);
    const expected = parsed(`vmess://${std}`);
    expect(parsed(`vmess://${b64url(json)}`)).toEqual(expected);
    expect(parsed(`vmess://${std.replace(/=+$/, "")}`)).toEqual(expected);
  });

  it("treats empty tls as security none and missing net as tcp", () => {
    const link = parsed(
      `vmess://${b64(JSON.stringify({ add: "192.0.2.11", port: 8080, id: UUID, tls: "" }))}`,
    );
    expect(link.security).toBe("none");
    expect(link.network).toBe("tcp");
    expect(link.name).toBe("");
  });

  it("keeps unknown JSON keys in params and writes them back", () => {
    const link = parsed(`vmess://${b64(JSON.stringify({ ...config, test: "x", num: 5 }))}`);
    expect(link.params).toEqual({ test: "x", num: "5" });
    expectStable(link);
  });

  it("takes the name from the fragment when ps is empty", () => {
    const link = parsed(`vmess://${b64(JSON.stringify({ ...config, ps: "" }))}#from%20fragment`);
    expect(link.name).toBe("from fragment");
  });

  it("writes std base64 with padding", () => {
    const text = formatShareLink(parsed(`vmess://${b64url(JSON.stringify(config))}`));
    expect(text).toMatch(/^vmess:\/\/[A-Za-z0-9+/]+=*$/);
    const decoded = JSON.parse(Buffer.from(text.slice(8), "base64").toString("utf8"));
    expect(decoded).toMatchObject({ v: "2", add: "192.0.2.10", port: 443, id: UUID, net: "ws", tls: "tls" });
  });

  it("accepts an IPv6 add with or without brackets", () => {
    const bare = parsed(`vmess://${b64(JSON.stringify({ ...config, add: "2001:DB8::1" }))}`);
    const bracketed = parsed(`vmess://${b64(JSON.stringify({ ...config, add: "[2001:db8::1]" }))}`);
    expect(bare.host).toBe("2001:db8::1");
    expect(bracketed).toEqual(bare);
  });

  it("reads the rare URL form vmess://uuid@host:port", () => {
    const link = parsed(
      `vmess://${UUID}@192.0.2.12:443?type=ws&security=tls&path=%2Fws&encryption=auto#url%20form`,
    );
    expect(link).toMatchObject({
      protocol: "vmess",
      uuid: UUID,
      network: "ws",
      security: "tls",
      path: "/ws",
      method: "auto",
      name: "url form",
    });
    expectStable(link);
  });

  it("refuses broken payloads with a reason", () => {
    expect(refused("vmess://")).toMatch(/vmess/);
    expect(refused("vmess://!!!notbase64")).toMatch(/neither base64 JSON/);
    expect(refused(`vmess://${b64("not json")}`)).toMatch(/does not decode to JSON/);
    expect(refused(`vmess://${b64("[1,2]")}`)).toMatch(/not an object/);
    expect(refused(`vmess://${b64(JSON.stringify({ ...config, port: 70000 }))}`)).toMatch(
      /port 70000 is out of range/,
    );
    expect(refused(`vmess://${b64(JSON.stringify({ ...config, port: "44a" }))}`)).toMatch(/port "44a"/);
    expect(refused(`vmess://${b64(JSON.stringify({ ...config, add: "" }))}`)).toMatch(/address/);
    expect(refused(`vmess://${b64(JSON.stringify({ ...config, id: "" }))}`)).toMatch(/uuid/);
  });
});

describe("vmess flags written loosely (found by fast-check at 20,000 runs)", () => {
  it.each([" 0", "0 ", " 1", "TRUE", "False"])("reads allowInsecure %j as a flag, stably", (flag) => {
    const link = parsed(
      `vmess://${b64(JSON.stringify({ add: "192.0.2.1", port: 443, id: UUID, allowInsecure: flag }))}`,
    );
    expect(link.allowInsecure).toBe(/1|true/i.test(flag));
    expect(link.params).toEqual({});
    expectStable(link);
  });
});

describe("vless and trojan (URL form)", () => {
  it("reads a REALITY vless link with every parameter", () => {
    const text =
      `vless://${UUID}@reality.example:443?encryption=none&flow=xtls-rprx-vision&security=reality` +
      "&sni=www.example.com&fp=chrome&pbk=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8&sid=0123456789abcdef" +
      "&spx=%2F&type=tcp&headerType=none#REALITY%20%F0%9F%87%AF%F0%9F%87%B5";
    const link = parsed(text);
    expect(link).toEqual({
      protocol: "vless",
      host: "reality.example",
      port: 443,
      name: "REALITY 🇯🇵",
      uuid: UUID,
      encryption: "none",
      flow: "xtls-rprx-vision",
      security: "reality",
      sni: "www.example.com",
      fingerprint: "chrome",
      realityPublicKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
      realityShortId: "0123456789abcdef",
      realitySpiderX: "/",
      network: "tcp",
      headerType: "none",
      params: {},
    });
    expectStable(link);
  });

  it("maps grpc serviceName to path and writes it back as serviceName", () => {
    const link = parsed(
      `vless://${UUID}@192.0.2.20:443?type=grpc&serviceName=svc&mode=multi&security=tls&alpn=h2`,
    );
    expect(link.path).toBe("svc");
    expect(link.params).toEqual({ mode: "multi" });
    expect(formatShareLink(link)).toContain("serviceName=svc");
    expectStable(link);
  });

  it("reads ws transport with host header and path", () => {
    const link = parsed(`vless://${UUID}@192.0.2.21:80?type=ws&host=cdn.example&path=%2Fa%3Fed%3D2048#ws`);
    expect(link).toMatchObject({
      network: "ws",
      hostHeader: "cdn.example",
      path: "/a?ed=2048",
      security: "none",
    });
    expectStable(link);
  });

  it("reads the unencoded names real hunters export (spaces, |)", () => {
    const link = parsed(`vless://${UUID}@192.0.2.22:4655?type=tcp&encryption=none#US Node-7 | example list`);
    expect(link.name).toBe("US Node-7 | example list");
    expect(formatShareLink(link)).toMatch(/#US%20Node-7%20%7C%20example%20list$/);
  });

  it("decodes percent-encoded trojan passwords and writes them encoded", () => {
    const link = parsed("trojan://pass%23v%40x@trojan.example:443?sni=t.example&allowInsecure=1#t");
    expect(link.password).toBe("pass#v@x");
    expect(link.allowInsecure).toBe(true);
    expect(link.security).toBe("tls");
    expect(formatShareLink(link)).toContain("trojan://pass%23v%40x@");
    expectStable(link);
  });

  it("drops empty parameters (sni=) and defaults trojan security to tls, vless to none", () => {
    const t = parsed("trojan://secret@192.0.2.23:2053?sni=&allowInsecure=1");
    expect(t.sni).toBeUndefined();
    expect(t.security).toBe("tls");
    expect(parsed(`vless://${UUID}@192.0.2.23:443`).security).toBe("none");
  });

  it("reads trojan peer as sni when sni is absent", () => {
    expect(parsed("trojan://secret@192.0.2.24:443?peer=p.example").sni).toBe("p.example");
  });

  it("keeps unknown parameters and sorts the written query", () => {
    const link = parsed(`vless://${UUID}@192.0.2.25:443?zeta=1&type=tcp&alpha=2&security=tls`);
    expect(link.params).toEqual({ zeta: "1", alpha: "2" });
    expect(formatShareLink(link)).toBe(`vless://${UUID}@192.0.2.25:443?alpha=2&security=tls&type=tcp&zeta=1`);
  });

  it("reads IPv6 hosts in brackets and stores them without brackets, lower-cased", () => {
    const link = parsed(`vless://${UUID}@[2001:DB8::5]:443?type=tcp`);
    expect(link.host).toBe("2001:db8::5");
    expect(formatShareLink(link)).toContain("@[2001:db8::5]:443");
    expectStable(link);
  });

  it("refuses links without credentials, host or a valid port", () => {
    expect(refused("vless://192.0.2.26:443")).toMatch(/uuid is missing/);
    expect(refused("trojan://@192.0.2.26:443")).toMatch(/password is missing/);
    expect(refused(`vless://${UUID}@192.0.2.26`)).toMatch(/port is missing/);
    expect(refused(`vless://${UUID}@192.0.2.26:0`)).toMatch(/out of range/);
    expect(refused(`vless://${UUID}@192.0.2.26:65536`)).toMatch(/out of range/);
    expect(refused(`vless://${UUID}@192.0.2.26:44x`)).toMatch(/port "44x"/);
    expect(refused(`vless://${UUID}@:443`)).toMatch(/host is missing/);
    expect(refused(`vless://${UUID}@2001:db8::1:443`)).toMatch(/brackets/);
    expect(refused(`vless://${UUID}@[2001:db8::1:443`)).toMatch(/closing bracket/);
    expect(refused(`vless://${UUID}@bad host:443`)).toMatch(/characters a host name cannot have/);
  });
});

describe("shadowsocks", () => {
  it("reads SIP002 with base64 userinfo and a plugin", () => {
    const text = `ss://${b64url("aes-256-gcm:pa:ss")}@192.0.2.30:8388/?plugin=obfs-local%3Bobfs%3Dhttp%3Bobfs-host%3Dcdn.example#SIP002`;
    const link = parsed(text);
    expect(link).toEqual({
      protocol: "ss",
      host: "192.0.2.30",
      port: 8388,
      name: "SIP002",
      method: "aes-256-gcm",
      password: "pa:ss",
      plugin: "obfs-local;obfs=http;obfs-host=cdn.example",
      network: "tcp",
      security: "none",
      params: {},
    });
    expectStable(link);
  });

  it("reads std base64 userinfo with padding", () => {
    const link = parsed(`ss://${b64("chacha20-ietf-poly1305:pw")}@192.0.2.31:8388#std`);
    expect(link).toMatchObject({ method: "chacha20-ietf-poly1305", password: "pw" });
  });

  it("reads plain percent-encoded userinfo (SS-2022) and writes it plain", () => {
    const link = parsed("ss://2022-blake3-aes-128-gcm:YWJjZGVmZ2hpamtsbW5vcA%3D%3D@192.0.2.32:8388#plain");
    expect(link).toMatchObject({ method: "2022-blake3-aes-128-gcm", password: "YWJjZGVmZ2hpamtsbW5vcA==" });
    expect(formatShareLink(link)).toMatch(/^ss:\/\/2022-blake3-aes-128-gcm:YWJjZGVmZ2hpamtsbW5vcA%3D%3D@/);
    expectStable(link);
  });

  it("reads plain userinfo of a classic cipher and writes it as base64url", () => {
    const link = parsed("ss://aes-128-gcm:p%40ss@192.0.2.33:8388");
    expect(link).toMatchObject({ method: "aes-128-gcm", password: "p@ss" });
    expect(formatShareLink(link)).toBe(`ss://${b64url("aes-128-gcm:p@ss")}@192.0.2.33:8388`);
  });

  it("reads the legacy all-base64 form", () => {
    const link = parsed(`ss://${b64("aes-128-gcm:test@192.0.2.34:8388")}#legacy%20name`);
    expect(link).toMatchObject({
      host: "192.0.2.34",
      port: 8388,
      method: "aes-128-gcm",
      password: "test",
      name: "legacy name",
    });
    expectStable(link);
  });

  it("reads a legacy form whose password holds @", () => {
    const link = parsed(`ss://${b64("aes-128-gcm:te@st@[2001:db8::34]:8388")}`);
    expect(link).toMatchObject({ host: "2001:db8::34", password: "te@st" });
  });

  it("refuses userinfo without a cipher and broken base64", () => {
    expect(refused(`ss://${b64url("nopassword")}@192.0.2.35:8388`)).toMatch(/method:password/);
    expect(refused("ss://***@192.0.2.35:8388")).toMatch(/base64/);
    expect(refused("ss://!!!")).toMatch(/base64/);
  });
});

describe("shadowsocksR", () => {
  const body = (host: string) =>
    `${host}:8389:auth_aes128_md5:aes-256-cfb:tls1.2_ticket_auth:${b64url("ssr pass")}` +
    `/?obfsparam=${b64url("obfs.example")}&protoparam=${b64url("32:abc")}&remarks=${b64url("SSR 节点")}&group=${b64url("grp")}`;

  it("reads host, port, protocol, method, obfs, password and base64 params", () => {
    const link = parsed(`ssr://${b64url(body("192.0.2.40"))}`);
    expect(link).toEqual({
      protocol: "ssr",
      host: "192.0.2.40",
      port: 8389,
      name: "SSR 节点",
      password: "ssr pass",
      method: "aes-256-cfb",
      ssrProtocol: "auth_aes128_md5",
      ssrProtocolParam: "32:abc",
      obfs: "tls1.2_ticket_auth",
      obfsParam: "obfs.example",
      network: "tcp",
      security: "none",
      params: { group: "grp" },
    });
    expectStable(link);
  });

  it("reads an IPv6 host (split from the right)", () => {
    expect(parsed(`ssr://${b64url(body("2001:db8::40"))}`).host).toBe("2001:db8::40");
  });

  it("refuses a payload with too few fields", () => {
    expect(refused(`ssr://${b64url("192.0.2.41:8389:origin")}`)).toMatch(/host:port:protocol:method:obfs/);
  });
});

describe("hysteria2", () => {
  it("reads auth, sni, obfs, insecure and a multi-port authority", () => {
    const link = parsed(
      "hysteria2://s3cr%3At@192.0.2.50:443,5000-6000/?sni=h.example&obfs=salamander&obfs-password=ob&insecure=1&pinSHA256=ab#hy",
    );
    expect(link).toEqual({
      protocol: "hysteria2",
      host: "192.0.2.50",
      port: 443,
      ports: "443,5000-6000",
      name: "hy",
      password: "s3cr:t",
      network: "tcp",
      security: "tls",
      sni: "h.example",
      allowInsecure: true,
      params: { obfs: "salamander", "obfs-password": "ob", pinSHA256: "ab" },
    });
    expect(formatShareLink(link)).toContain("@192.0.2.50:443,5000-6000/");
    expectStable(link);
  });

  it("treats hy2:// as hysteria2 and takes the first port of a range", () => {
    const link = parsed("hy2://pw@[2001:db8::50]:20000-30000?mport=20000-30000");
    expect(link).toMatchObject({
      protocol: "hysteria2",
      host: "2001:db8::50",
      port: 20000,
      ports: "20000-30000",
    });
    expect(link.params).toEqual({ mport: "20000-30000" });
    expectStable(link);
  });

  it("refuses a bad port list", () => {
    expect(refused("hysteria2://pw@192.0.2.51:443,abc")).toMatch(/port list/);
    expect(refused("hysteria2://pw@192.0.2.51:443,70000")).toMatch(/out of range/);
  });
});

describe("tuic v5", () => {
  it("reads uuid, password and parameters", () => {
    const link = parsed(
      `tuic://${UUID}:p%40ss@192.0.2.60:443?congestion_control=bbr&alpn=h3&sni=t.example&udp_relay_mode=native&allow_insecure=1#tuic`,
    );
    expect(link).toEqual({
      protocol: "tuic",
      host: "192.0.2.60",
      port: 443,
      name: "tuic",
      uuid: UUID,
      password: "p@ss",
      network: "tcp",
      security: "tls",
      sni: "t.example",
      alpn: "h3",
      allowInsecure: true,
      params: { congestion_control: "bbr", udp_relay_mode: "native" },
    });
    expectStable(link);
  });

  it("refuses a missing uuid", () => {
    expect(refused("tuic://192.0.2.61:443")).toMatch(/uuid is missing/);
  });
});

describe("socks5 and http(s)", () => {
  it("reads socks5 with user:pass, and socks:// as socks5", () => {
    const link = parsed("socks5://us%3Aer:p%40ss@192.0.2.70:1080#s5");
    expect(link).toMatchObject({ protocol: "socks5", username: "us:er", password: "p@ss", name: "s5" });
    expectStable(link);
    expect(parsed("socks://u:p@192.0.2.70:1080").protocol).toBe("socks5");
  });

  it("reads the v2rayN base64 userinfo variant", () => {
    const link = parsed(`socks://${b64("user:pass")}@192.0.2.71:1080#b64`);
    expect(link).toMatchObject({ protocol: "socks5", username: "user", password: "pass" });
  });

  it("reads http and https with and without credentials", () => {
    expect(parsed("http://u:p@192.0.2.72:3128")).toEqual({
      protocol: "http",
      host: "192.0.2.72",
      port: 3128,
      name: "",
      username: "u",
      password: "p",
      network: "tcp",
      security: "none",
      params: {},
    });
    expect(parsed("https://proxy.example")).toMatchObject({ protocol: "https", port: 443 });
    expect(parsed("http://192.0.2.72")).toMatchObject({ port: 80 });
    expect(formatShareLink(parsed("HTTP://192.0.2.72:8080/"))).toBe("http://192.0.2.72:8080");
  });

  it("needs a port for socks5", () => {
    expect(refused("socks5://192.0.2.73")).toMatch(/port is missing/);
  });
});

describe("names and hostile input", () => {
  it("strips control characters and line breaks from names, never refuses for them", () => {
    const link = parsed(`trojan://pw@192.0.2.80:443#a%0Ab%09c%00d%1Be\u2028f`);
    expect(link.name).toBe("a b cde f");
    const vm = parsed(
      `vmess://${b64(JSON.stringify({ add: "192.0.2.80", port: 1, id: UUID, ps: "x\r\ny\u0007\ud83c" }))}`,
    );
    expect(vm.name).toBe("x y\ufffd");
    expectStable(vm);
  });

  it("keeps invalid percent escapes as written instead of failing", () => {
    expect(parsed("trojan://pw@192.0.2.81:443#100%zz%E0%A4").name).toBe("100%zz%E0%A4");
  });

  it("refuses unknown schemes, non-links, empty and oversized input with a message", () => {
    expect(refused("wireguard://x@192.0.2.82:51820")).toMatch(/unsupported scheme "wireguard:\/\/"/);
    expect(refused("just text")).toMatch(/not a share link/);
    expect(refused("   ")).toMatch(/empty/);
    expect(refused(`trojan://pw@192.0.2.82:443#${"x".repeat(MAX_LINK_LENGTH)}`)).toMatch(/longer than/);
    expect(parseShareLink(42 as unknown as string)).toEqual({
      ok: false,
      error: "a share link must be a string",
    });
  });

  it("accepts upper-case schemes and surrounding whitespace", () => {
    expect(parsed("  TROJAN://pw@192.0.2.83:443  ").protocol).toBe("trojan");
  });
});

describe("long names", () => {
  it("cuts names to MAX_NAME_LENGTH code points, ending in …, without splitting emoji", () => {
    const long = "🇨🇳".repeat(400);
    const link = parsed(`trojan://pw@192.0.2.90:443#${encodeURIComponent(long)}`);
    const points = Array.from(link.name);
    expect(points).toHaveLength(MAX_NAME_LENGTH);
    expect(points.at(-1)).toBe("…");
    expect(points.slice(0, -1).every((c) => c === "\u{1f1e8}" || c === "\u{1f1f3}")).toBe(true);
    expect(cleanName(link.name)).toBe(link.name);
    expectStable(link);
  });
});

describe("cleanName", () => {
  it("cuts a huge name exactly as if it had cleaned the whole of it", () => {
    const unit = "名\n\u0000x 🇩🇪\t\t";
    const huge = unit.repeat(10_000);
    const slow = Array.from(
      huge
        .replace(/[\t\n]+/g, " ")
        .replace(/\u0000/g, "")
        .trim(),
    );
    const expected = `${slow
      .slice(0, MAX_NAME_LENGTH - 1)
      .join("")
      .trimEnd()}…`;
    expect(cleanName(huge)).toBe(expected);
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 600 }), (s) => {
        expect(cleanName(cleanName(s))).toBe(cleanName(s));
      }),
    );
  });
});
