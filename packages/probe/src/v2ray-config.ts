/**
 * Pure generation of a v2ray 4.x JSON configuration for a batch: one local HTTP-proxy inbound per
 * node on 127.0.0.1, each routed by its inbound tag to that node's outbound. No I/O here, so the
 * mapping from share link to outbound is unit-tested without running v2ray.
 */
import type { ShareLink } from "@viper/protocol";
import { normalizedSecurity, parsePlugin, throughNodeSupport } from "./support.js";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

export interface CoreNodeEntry {
  link: ShareLink;
  /** Local port of this node's inbound. */
  port: number;
}

export interface V2rayConfig extends JsonObject {
  log: JsonObject;
  inbounds: JsonObject[];
  outbounds: JsonObject[];
  routing: JsonObject;
}

/** Tag of the first outbound: v2ray's default route. A blackhole, so nothing ever leaves unproxied. */
export const UNROUTED_TAG = "unrouted";

export function inboundTag(index: number): string {
  return `in-${index}`;
}

export function outboundTag(index: number): string {
  return `node-${index}`;
}

/** Throws a TypeError for a node the core cannot run (classify with `throughNodeSupport` first). */
export function buildCoreConfig(entries: readonly CoreNodeEntry[]): V2rayConfig {
  const inbounds: JsonObject[] = [];
  const outbounds: JsonObject[] = [{ tag: UNROUTED_TAG, protocol: "blackhole", settings: {} }];
  const rules: JsonObject[] = [];
  entries.forEach((entry, index) => {
    inbounds.push({
      tag: inboundTag(index),
      listen: "127.0.0.1",
      port: entry.port,
      protocol: "http",
      settings: { allowTransparent: false },
    });
    outbounds.push(buildOutbound(entry.link, outboundTag(index)));
    rules.push({ type: "field", inboundTag: [inboundTag(index)], outboundTag: outboundTag(index) });
  });
  return {
    // "warning" is the lowest level that still prints "V2Ray 4.34.0 started", the readiness signal.
    log: { loglevel: "warning" },
    inbounds,
    outbounds,
    routing: { domainStrategy: "AsIs", rules },
  };
}

export function buildOutbound(link: ShareLink, tag: string): JsonObject {
  const support = throughNodeSupport(link);
  if (support.kind !== "core") {
    throw new TypeError(
      `@viper/probe: ${link.protocol} node ${link.host}:${link.port} cannot run in v2ray (${
        support.kind === "unsupported" ? support.reason : "checked natively"
      })`,
    );
  }
  const server = { address: link.host, port: link.port };
  const streamSettings = buildStreamSettings(link);
  switch (link.protocol) {
    case "vmess":
      return {
        tag,
        protocol: "vmess",
        settings: {
          vnext: [
            {
              ...server,
              users: [
                { id: link.uuid, alterId: link.alterId ?? 0, security: link.method?.toLowerCase() || "auto" },
              ],
            },
          ],
        },
        streamSettings,
      };
    case "vless":
      return {
        tag,
        protocol: "vless",
        settings: { vnext: [{ ...server, users: [{ id: link.uuid, encryption: "none" }] }] },
        streamSettings,
      };
    case "trojan":
      return {
        tag,
        protocol: "trojan",
        settings: { servers: [{ ...server, password: link.password }] },
        streamSettings,
      };
    case "ss":
      return {
        tag,
        protocol: "shadowsocks",
        settings: {
          servers: [{ ...server, method: link.method?.toLowerCase(), password: link.password ?? "" }],
        },
        streamSettings,
      };
    default:
      throw new TypeError(`@viper/probe: no v2ray outbound for protocol ${link.protocol}`);
  }
}

interface Transport {
  network: string;
  security: string;
  path: string | undefined;
  hostHeader: string | undefined;
  sni: string | undefined;
}

/** ss carries ws/tls in a v2ray-plugin string; the other protocols carry them in the link fields. */
function transportOf(link: ShareLink): Transport {
  if (link.protocol === "ss") {
    if (!link.plugin)
      return { network: "tcp", security: "none", path: undefined, hostHeader: undefined, sni: undefined };
    const { options } = parsePlugin(link.plugin);
    const host = options.get("host") || undefined;
    return {
      network: "ws",
      security: options.has("tls") ? "tls" : "none",
      path: options.get("path") || "/",
      hostHeader: host,
      sni: host,
    };
  }
  return {
    network: (link.network || "tcp").toLowerCase(),
    security: normalizedSecurity(link),
    path: link.path,
    hostHeader: link.hostHeader,
    sni: link.sni,
  };
}

export function buildStreamSettings(link: ShareLink): JsonObject {
  const t = transportOf(link);
  const stream: JsonObject = { network: coreNetworkName(t.network), security: t.security };
  if (t.security === "tls") {
    const serverName = t.sni || t.hostHeader;
    let alpn = link.alpn
      ?.split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    // A websocket handshake is HTTP/1.1: offering h2 lets the server pick it and the upgrade fails.
    if (alpn && t.network.startsWith("w")) alpn = alpn.filter((a) => a !== "h2");
    stream["tlsSettings"] = {
      ...(serverName ? { serverName } : {}),
      allowInsecure: link.allowInsecure === true,
      ...(alpn && alpn.length > 0 ? { alpn } : {}),
    };
  }
  switch (stream["network"]) {
    case "ws":
      stream["wsSettings"] = {
        path: t.path || "/",
        ...(t.hostHeader ? { headers: { Host: t.hostHeader } } : {}),
      };
      break;
    case "http":
      stream["httpSettings"] = {
        path: t.path || "/",
        ...(t.hostHeader ? { host: t.hostHeader.split(",").map((h) => h.trim()) } : {}),
      };
      break;
    case "kcp":
      stream["kcpSettings"] = {
        header: { type: link.headerType || "none" },
        ...(link.params["seed"] ? { seed: link.params["seed"] } : {}),
      };
      break;
    case "quic":
      stream["quicSettings"] = {
        security: link.params["quicSecurity"] || "none",
        key: link.params["key"] || "",
        header: { type: link.headerType || "none" },
      };
      break;
    default:
      if (link.headerType === "http") {
        stream["tcpSettings"] = {
          header: {
            type: "http",
            request: {
              path: (t.path || "/").split(",").map((p) => p.trim()),
              headers: t.hostHeader ? { Host: t.hostHeader.split(",").map((h) => h.trim()) } : {},
            },
          },
        };
      }
  }
  return stream;
}

/** Share-link transport names → v2ray 4.x names ("h2" is HTTP/2, called "http" in v2ray). */
function coreNetworkName(network: string): string {
  switch (network) {
    case "raw":
      return "tcp";
    case "websocket":
      return "ws";
    case "h2":
      return "http";
    case "mkcp":
      return "kcp";
    default:
      return network;
  }
}
