import type { ShareLink } from "@viper/protocol";
import { describe, expect, it } from "vitest";
import { buildCoreConfig, buildOutbound, buildStreamSettings } from "./v2ray-config.js";

const UUID = "5f3c1a2e-8d4b-4c6a-9e7f-0a1b2c3d4e5f";
function link(protocol: ShareLink["protocol"], extra: Partial<ShareLink> = {}): ShareLink {
  return {
    protocol,
    host: "node.example",
    port: 8443,
    name: "n",
    network: "tcp",
    security: "none",
    params: {},
    ...extra,
  };
}

describe("buildCoreConfig", () => {
  it("gives every node its own loopback inbound, routed by tag to its own outbound", () => {
    const config = buildCoreConfig([
      { link: link("vmess", { uuid: UUID }), port: 20001 },
      { link: link("trojan", { password: "p", security: "tls" }), port: 20002 },
    ]);
    expect(config.inbounds).toEqual([
      expect.objectContaining({ tag: "in-0", listen: "127.0.0.1", port: 20001, protocol: "http" }),
      expect.objectContaining({ tag: "in-1", listen: "127.0.0.1", port: 20002, protocol: "http" }),
    ]);
    expect(config.routing["rules"]).toEqual([
      { type: "field", inboundTag: ["in-0"], outboundTag: "node-0" },
      { type: "field", inboundTag: ["in-1"], outboundTag: "node-1" },
    ]);
    // The first outbound is v2ray's default: a blackhole, so unrouted traffic never leaves directly.
    expect(config.outbounds[0]).toMatchObject({ protocol: "blackhole" });
    expect(config.outbounds.map((o) => o["tag"])).toEqual(["unrouted", "node-0", "node-1"]);
    // "warning" is needed for the readiness line.
    expect(config.log).toEqual({ loglevel: "warning" });
  });

  it("refuses a node the core cannot honour instead of generating a config that lies", () => {
    expect(() =>
      buildCoreConfig([{ link: link("vless", { uuid: UUID, security: "reality" }), port: 1 }]),
    ).toThrow(/REALITY/);
  });
});

describe("buildOutbound", () => {
  it("vmess: vnext with id, alterId and security", () => {
    expect(buildOutbound(link("vmess", { uuid: UUID, alterId: 2, method: "AES-128-GCM" }), "t")).toEqual({
      tag: "t",
      protocol: "vmess",
      settings: {
        vnext: [
          { address: "node.example", port: 8443, users: [{ id: UUID, alterId: 2, security: "aes-128-gcm" }] },
        ],
      },
      streamSettings: { network: "tcp", security: "none" },
    });
  });

  it("vless: encryption none, no flow", () => {
    const out = buildOutbound(link("vless", { uuid: UUID }), "t");
    expect(out["settings"]).toEqual({
      vnext: [{ address: "node.example", port: 8443, users: [{ id: UUID, encryption: "none" }] }],
    });
  });

  it("trojan: servers with password, tls by default", () => {
    const out = buildOutbound(link("trojan", { password: "pw", security: "", sni: "sni.example" }), "t");
    expect(out["settings"]).toEqual({ servers: [{ address: "node.example", port: 8443, password: "pw" }] });
    expect(out["streamSettings"]).toEqual({
      network: "tcp",
      security: "tls",
      tlsSettings: { serverName: "sni.example", allowInsecure: false },
    });
  });

  it("trojan with security=none is honoured", () => {
    const out = buildOutbound(link("trojan", { password: "pw", security: "none" }), "t");
    expect(out["streamSettings"]).toEqual({ network: "tcp", security: "none" });
  });

  it("shadowsocks: servers with method and password", () => {
    const out = buildOutbound(link("ss", { method: "chacha20-ietf-poly1305", password: "pw" }), "t");
    expect(out).toMatchObject({
      protocol: "shadowsocks",
      settings: {
        servers: [{ address: "node.example", port: 8443, method: "chacha20-ietf-poly1305", password: "pw" }],
      },
    });
  });

  it("shadowsocks v2ray-plugin becomes a websocket (+tls) transport", () => {
    const out = buildOutbound(
      link("ss", {
        method: "aes-128-gcm",
        password: "pw",
        plugin: "v2ray-plugin;tls;host=cdn.example;path=/p",
      }),
      "t",
    );
    expect(out["streamSettings"]).toEqual({
      network: "ws",
      security: "tls",
      tlsSettings: { serverName: "cdn.example", allowInsecure: false },
      wsSettings: { path: "/p", headers: { Host: "cdn.example" } },
    });
  });
});

describe("buildStreamSettings", () => {
  it("ws + tls: path, Host header, SNI from the host header, allowInsecure, h2 dropped from alpn", () => {
    expect(
      buildStreamSettings(
        link("vmess", {
          uuid: UUID,
          network: "ws",
          security: "tls",
          path: "/ray",
          hostHeader: "cdn.example",
          alpn: "h2,http/1.1",
          allowInsecure: true,
        }),
      ),
    ).toEqual({
      network: "ws",
      security: "tls",
      tlsSettings: { serverName: "cdn.example", allowInsecure: true, alpn: ["http/1.1"] },
      wsSettings: { path: "/ray", headers: { Host: "cdn.example" } },
    });
  });

  it("h2 maps to v2ray's http transport with a host list", () => {
    expect(
      buildStreamSettings(
        link("vless", { uuid: UUID, network: "h2", security: "tls", hostHeader: "a.example,b.example" }),
      ),
    ).toEqual({
      network: "http",
      security: "tls",
      tlsSettings: { serverName: "a.example,b.example", allowInsecure: false },
      httpSettings: { path: "/", host: ["a.example", "b.example"] },
    });
  });

  it("tcp with an http header type becomes tcpSettings.header", () => {
    expect(
      buildStreamSettings(
        link("vmess", { uuid: UUID, headerType: "http", path: "/a", hostHeader: "h.example" }),
      ),
    ).toEqual({
      network: "tcp",
      security: "none",
      tcpSettings: { header: { type: "http", request: { path: ["/a"], headers: { Host: ["h.example"] } } } },
    });
  });

  it("kcp carries header type and seed", () => {
    expect(
      buildStreamSettings(
        link("vmess", { uuid: UUID, network: "kcp", headerType: "wechat-video", params: { seed: "s" } }),
      ),
    ).toEqual({
      network: "kcp",
      security: "none",
      kcpSettings: { header: { type: "wechat-video" }, seed: "s" },
    });
  });
});
