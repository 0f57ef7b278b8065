import { parseShareLink, type ShareLink } from "@viper/protocol";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  CLASH_AUTO_GROUP,
  CLASH_SELECT_GROUP,
  renderExport,
  toClashProfile,
  toMihomoProxy,
} from "../src/services/export/index.js";
import type { NodeView } from "../src/services/node-query.js";
import { HOSTILE_NAMES, manyViews, sampleLinks, viewOf } from "./export-nodes.js";

interface Profile {
  proxies: Record<string, unknown>[];
  "proxy-groups": { name: string; type: string; proxies: string[] }[];
  rules: string[];
}

/** The profile as a YAML 1.1 reader (mihomo) and a YAML 1.2 reader see it; the test wants both equal. */
function parseProfile(text: string): Profile {
  const v11 = YAML.parse(text, { version: "1.1" }) as Profile;
  const v12 = YAML.parse(text, { version: "1.2" }) as Profile;
  expect(v11).toEqual(v12);
  return v11;
}

function proxyOf(link: ShareLink): Record<string, unknown> {
  const mapping = toMihomoProxy(link, "n");
  if (!mapping.ok) throw new Error(mapping.reason);
  return mapping.proxy;
}

const links = sampleLinks();

describe("clash export: mihomo proxies per protocol", () => {
  it("vmess over ws + tls: ws-opts with Host and early data, servername, alpn list, skip-cert-verify", () => {
    expect(proxyOf(links["vmessWs"]!)).toEqual({
      name: "n",
      type: "vmess",
      server: "vmess.example",
      port: 443,
      uuid: "0f5b3c9e-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
      alterId: 0,
      cipher: "auto",
      udp: true,
      tls: true,
      servername: "cdn.example",
      alpn: ["h2", "http/1.1"],
      "client-fingerprint": "chrome",
      "skip-cert-verify": true,
      network: "ws",
      "ws-opts": {
        path: "/ray",
        headers: { Host: "cdn.example" },
        "max-early-data": 2048,
        "early-data-header-name": "Sec-WebSocket-Protocol",
      },
    });
  });

  it("vmess tcp with http header obfuscation → network http + http-opts; h2 → h2-opts", () => {
    expect(proxyOf(links["vmessTcpHttp"]!)).toMatchObject({
      alterId: 64,
      network: "http",
      "http-opts": { method: "GET", path: ["/index"], headers: { Host: ["a.example", "b.example"] } },
    });
    expect(proxyOf(links["vmessTcpHttp"]!)).not.toHaveProperty("tls");
    expect(proxyOf(links["vmessH2"]!)).toMatchObject({
      tls: true,
      network: "h2",
      "h2-opts": { host: ["h2.example"], path: "/h2" },
    });
  });

  it("vless REALITY: reality-opts, flow, client-fingerprint, servername; encryption none is left out", () => {
    expect(proxyOf(links["vlessReality"]!)).toEqual({
      name: "n",
      type: "vless",
      server: "203.0.113.5",
      port: 443,
      uuid: "0f5b3c9e-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
      udp: true,
      flow: "xtls-rprx-vision",
      tls: true,
      servername: "www.example",
      "client-fingerprint": "firefox",
      "reality-opts": {
        "public-key": "wZ2fQ1rJ8kq7n3L0sVtY4uXcD6eH9aBgM5pNoRiTjUk",
        "short-id": "6ba85179e30d4fc2",
      },
      network: "tcp",
    });
  });

  it("vless grpc, xhttp and httpupgrade transports", () => {
    expect(proxyOf(links["vlessGrpc"]!)).toMatchObject({
      network: "grpc",
      "grpc-opts": { "grpc-service-name": "svc-name" },
    });
    expect(proxyOf(links["vlessXhttp"]!)).toMatchObject({
      network: "xhttp",
      "xhttp-opts": { path: "/xh", host: "xhttp.example", mode: "packet-up" },
    });
    expect(proxyOf(links["vlessHttpUpgrade"]!)).toMatchObject({
      server: "2001:db8::7",
      network: "ws",
      "ws-opts": { path: "/up", headers: { Host: "up.example" }, "v2ray-http-upgrade": true },
    });
  });

  it("trojan: sni (not servername), no tls key, ws-opts; security=none is reported, not guessed", () => {
    const proxy = proxyOf(links["trojanWs"]!);
    expect(proxy).toMatchObject({ type: "trojan", password: "yes", sni: "trojan.example", network: "ws" });
    expect(proxy).not.toHaveProperty("tls");
    expect(proxy).not.toHaveProperty("servername");
    const plain = toMihomoProxy({ ...links["trojanWs"]!, security: "none" }, "n");
    expect(plain).toEqual({ ok: false, reason: expect.stringMatching(/security=none/) });
  });

  it("ss with simple-obfs and v2ray-plugin map to plugin + plugin-opts; SS-2022 keeps its cipher", () => {
    expect(proxyOf(links["ssObfs"]!)).toEqual({
      name: "n",
      type: "ss",
      server: "198.51.100.20",
      port: 8388,
      cipher: "aes-256-gcm",
      password: "no",
      udp: true,
      plugin: "obfs",
      "plugin-opts": { mode: "tls", host: "bing.example" },
    });
    expect(proxyOf(links["ssV2rayPlugin"]!)).toMatchObject({
      plugin: "v2ray-plugin",
      "plugin-opts": { mode: "websocket", tls: true, host: "ws.example", path: "/ss;ws", mux: false },
    });
    expect(proxyOf(links["ss2022"]!)).toMatchObject({
      cipher: "2022-blake3-aes-128-gcm",
      password: "AAAAAAAAAAAAAAAAAAAAAA==",
    });
    const kcp = toMihomoProxy({ ...links["ssObfs"]!, plugin: "kcptun;key=x" }, "n");
    expect(kcp).toEqual({ ok: false, reason: expect.stringMatching(/kcptun/) });
  });

  it("ssr, hysteria2, tuic, socks5, http and https", () => {
    expect(proxyOf(links["ssr"]!)).toMatchObject({
      type: "ssr",
      cipher: "aes-256-cfb",
      password: "~",
      protocol: "auth_aes128_md5",
      "protocol-param": "12:pp",
      obfs: "tls1.2_ticket_auth",
      "obfs-param": "obfs.example",
    });
    expect(proxyOf(links["hysteria2"]!)).toMatchObject({
      type: "hysteria2",
      port: 443,
      ports: "443,5000-6000",
      password: "null",
      sni: "hy2.example",
      "skip-cert-verify": true,
      obfs: "salamander",
      "obfs-password": "on",
      fingerprint: "abcdef",
    });
    expect(proxyOf(links["tuic"]!)).toMatchObject({
      type: "tuic",
      password: "2024-01-01",
      alpn: ["h3"],
      "congestion-controller": "bbr",
      "udp-relay-mode": "native",
      "disable-sni": false,
    });
    expect(proxyOf(links["socks5"]!)).toEqual({
      name: "n",
      type: "socks5",
      server: "192.0.2.50",
      port: 1080,
      username: "off",
      password: "y",
      udp: true,
    });
    expect(proxyOf(links["http"]!)).toMatchObject({ type: "http", username: "user", password: "pass" });
    expect(proxyOf(links["https"]!)).toMatchObject({ type: "http", tls: true });
  });

  it("transports mihomo lacks (kcp, quic) are reported with the reason", () => {
    for (const network of ["kcp", "quic"]) {
      const mapping = toMihomoProxy({ ...links["vmessWs"]!, network }, "n");
      expect(mapping).toEqual({ ok: false, reason: `mihomo's vmess has no "${network}" transport` });
    }
  });
});

describe("clash export: the profile", () => {
  it("every sample node appears under proxies:, with the fields of its own mapping, parsed as YAML 1.1 and 1.2", () => {
    const views = Object.values(links).map((link, i) => viewOf(link, `node ${i}`, i));
    const profile = parseProfile(renderExport("clash", views).body);
    expect(profile.proxies.map((p) => p["name"])).toEqual(views.map((v) => v.name));
    Object.values(links).forEach((link, i) => {
      expect(profile.proxies[i]).toEqual({ ...proxyOf({ ...link, name: `node ${i}` }), name: `node ${i}` });
    });
  });

  it("has a select group with every proxy, a url-test group, and MATCH to the select group", () => {
    const views = manyViews(20);
    const profile = parseProfile(renderExport("clash", views).body);
    const names = profile.proxies.map((p) => p["name"]);
    const select = profile["proxy-groups"].find((g) => g.name === CLASH_SELECT_GROUP);
    const auto = profile["proxy-groups"].find((g) => g.name === CLASH_AUTO_GROUP);
    expect(select).toMatchObject({ type: "select", proxies: [CLASH_AUTO_GROUP, ...names] });
    expect(auto).toMatchObject({ type: "url-test", proxies: names });
    expect(profile.rules).toEqual([`MATCH,${CLASH_SELECT_GROUP}`]);
  });

  it("secrets and names that YAML 1.1 turns into bools, nulls, dates and octals stay strings", () => {
    const words = ["yes", "no", "on", "off", "~", "null", "2024-01-01", "0o17", "017", "y", "true"];
    const views = words.map((w, i) => viewOf({ ...links["trojanWs"]!, password: w }, w, i));
    const profile = parseProfile(renderExport("clash", views).body);
    expect(profile.proxies.map((p) => p["name"])).toEqual(words);
    expect(profile.proxies.map((p) => p["password"])).toEqual(words);
    for (const p of profile.proxies) expect(typeof p["type"]).toBe("string");
    expect(renderExport("clash", views).body).not.toMatch(/: (yes|no|on|off|~|null|2024-01-01|0o17)$/m);
  });

  it("duplicate names are made unique with a suffix, never dropped, and never shadow a group or DIRECT", () => {
    const link = links["vlessReality"]!;
    const names = ["A", "A", "A (2)", "A", "DIRECT", CLASH_SELECT_GROUP, CLASH_AUTO_GROUP, "", ""];
    const views = names.map((n, i) => viewOf({ ...link, host: `h${i}.example` }, n, i));
    const profile = parseProfile(renderExport("clash", views).body);
    expect(profile.proxies.map((p) => p["name"])).toEqual([
      "A",
      "A (2)",
      "A (2) (2)",
      "A (3)",
      "DIRECT (2)",
      `${CLASH_SELECT_GROUP} (2)`,
      `${CLASH_AUTO_GROUP} (2)`,
      "vless h7.example:443",
      "vless h8.example:443",
    ]);
    expect(profile.proxies.map((p) => p["server"])).toEqual(views.map((v) => v.host));
  });

  it("hostile names survive: quotes, emoji, CJK, YAML syntax; line breaks become spaces", () => {
    const views = HOSTILE_NAMES.map((n, i) => viewOf({ ...links["ssObfs"]!, port: 1000 + i }, n, i));
    const profile = parseProfile(renderExport("clash", views).body);
    const expected = HOSTILE_NAMES.map((n) => n.replace(/[\p{Cc}]+/gu, " ").trim()).map((n) =>
      n === "DIRECT" || n === CLASH_SELECT_GROUP ? `${n} (2)` : n,
    );
    expect(profile.proxies.map((p) => p["name"])).toEqual(expected);
    expect(profile.proxies.map((p) => p["port"])).toEqual(views.map((v) => v.port));
  });

  it("a node whose link cannot be mapped is listed in a comment at the top, the rest still appear", () => {
    const good = viewOf(links["socks5"]!, "good", 1);
    const kcp = viewOf({ ...links["vmessWs"]!, network: "kcp" }, "kcp\nnode", 2);
    const broken: NodeView = { ...viewOf(links["socks5"]!, "broken", 3), url: "vless://nothing-here" };
    const { text, skipped, proxyNames } = toClashProfile([kcp, good, broken]);
    expect(proxyNames).toEqual(["good"]);
    expect(skipped.map((s) => s.id)).toEqual([kcp.id, broken.id]);
    const comment = text.split("\n").filter((l) => l.startsWith("#"));
    expect(comment[0]).toBe(
      "# 2 node(s) could not be written as mihomo proxies and are not in this profile:",
    );
    expect(comment[1]).toContain(`${kcp.id} "kcp\\nnode": mihomo's vmess has no "kcp" transport`);
    expect(comment[2]).toContain(`${broken.id} "broken": the share link does not parse`);
    expect(parseProfile(text).proxies.map((p) => p["name"])).toEqual(["good"]);
    expect(renderExport("clash", [kcp, good]).skipped).toHaveLength(1);
  });

  it("an empty export is still a loadable profile (the group falls back to DIRECT)", () => {
    const profile = parseProfile(renderExport("clash", []).body);
    expect(profile.proxies).toEqual([]);
    expect(profile["proxy-groups"]).toEqual([
      { name: CLASH_SELECT_GROUP, type: "select", proxies: ["DIRECT"] },
    ]);
  });

  it("the sample links parse back from their canonical form unchanged (so the mapping sees what the test built)", () => {
    for (const link of Object.values(links)) {
      const parsed = parseShareLink(viewOf(link, "name", 0).url);
      expect(parsed).toEqual({ ok: true, link: { ...link, name: "name" } });
    }
  });
});
