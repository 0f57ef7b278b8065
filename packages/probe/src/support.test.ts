import type { ShareLink } from "@viper/protocol";
import { describe, expect, it } from "vitest";
import { throughNodeSupport } from "./support.js";

const UUID = "5f3c1a2e-8d4b-4c6a-9e7f-0a1b2c3d4e5f";
function link(protocol: ShareLink["protocol"], extra: Partial<ShareLink> = {}): ShareLink {
  return {
    protocol,
    host: "node.example",
    port: 443,
    name: "n",
    network: "tcp",
    security: "none",
    params: {},
    ...extra,
  };
}

describe("throughNodeSupport", () => {
  it.each([
    ["http", link("http")],
    ["https", link("https")],
    ["socks5", link("socks5", { username: "u", password: "p" })],
  ])("checks %s proxies natively", (_name, l) => {
    expect(throughNodeSupport(l)).toEqual({ kind: "native" });
  });

  it.each([
    ["vmess tcp", link("vmess", { uuid: UUID })],
    ["vmess ws tls", link("vmess", { uuid: UUID, network: "ws", security: "tls", path: "/x" })],
    ["vless tls", link("vless", { uuid: UUID, security: "tls", encryption: "none" })],
    ["trojan default tls", link("trojan", { password: "p", security: "" })],
    ["trojan security=none", link("trojan", { password: "p", security: "none" })],
    ["ss aes-128-gcm", link("ss", { method: "aes-128-gcm", password: "p" })],
    ["ss chacha20-ietf-poly1305", link("ss", { method: "chacha20-ietf-poly1305", password: "p" })],
    [
      "ss v2ray-plugin",
      link("ss", { method: "aes-256-gcm", password: "p", plugin: "v2ray-plugin;tls;host=a.example" }),
    ],
    ["vmess h2", link("vmess", { uuid: UUID, network: "h2", security: "tls" })],
    ["vmess kcp", link("vmess", { uuid: UUID, network: "kcp" })],
  ])("runs %s through the core", (_name, l) => {
    expect(throughNodeSupport(l)).toEqual({ kind: "core" });
  });

  it.each([
    ["REALITY vless", link("vless", { uuid: UUID, security: "reality", realityPublicKey: "k" }), /REALITY/],
    ["XTLS Vision flow", link("vless", { uuid: UUID, security: "tls", flow: "xtls-rprx-vision" }), /flow/],
    ["xtls security", link("vless", { uuid: UUID, security: "xtls" }), /XTLS/],
    ["hysteria2", link("hysteria2", { password: "p", security: "tls" }), /hysteria2/],
    ["tuic", link("tuic", { uuid: UUID, password: "p", security: "tls" }), /tuic/],
    ["ssr", link("ssr", { method: "aes-256-cfb", password: "p" }), /ShadowsocksR/],
    ["shadowsocks-2022", link("ss", { method: "2022-blake3-aes-128-gcm", password: "k" }), /2022/],
    ["ss stream cipher", link("ss", { method: "aes-256-cfb", password: "p" }), /cipher/],
    [
      "ss obfs plugin",
      link("ss", { method: "aes-128-gcm", password: "p", plugin: "obfs-local;obfs=http" }),
      /plugin/,
    ],
    ["grpc transport", link("vless", { uuid: UUID, network: "grpc", security: "tls" }), /grpc/],
    ["httpupgrade transport", link("vmess", { uuid: UUID, network: "httpupgrade" }), /httpupgrade/],
    ["non-UUID vmess id", link("vmess", { uuid: "my-password" }), /UUID/],
    ["vless encryption", link("vless", { uuid: UUID, encryption: "mlkem768x25519plus" }), /encryption/],
  ])("reports %s as unsupported with a reason", (_name, l, reason) => {
    const support = throughNodeSupport(l);
    expect(support.kind).toBe("unsupported");
    expect(support.kind === "unsupported" && support.reason).toMatch(reason);
  });
});
