import type { ShareLink } from "@viper/protocol";
import { parseSip003 } from "./sip003.js";
import type { YamlValue } from "./yaml-emit.js";

/** One entry of mihomo's `proxies:` list. */
export type MihomoProxy = { [key: string]: YamlValue };

/** A link mihomo cannot express gives a reason instead of a half-right proxy. */
export type ProxyMapping = { ok: true; proxy: MihomoProxy } | { ok: false; reason: string };

class Unmappable extends Error {}

/**
 * Maps a parsed share link to a mihomo proxy named `name`. Field names follow mihomo's config
 * reference (wiki.metacubex.one, "proxies"): vmess/vless say `servername`, trojan/hysteria2/tuic/http
 * say `sni`; `client-fingerprint` is uTLS, while hysteria2's `fingerprint` pins the certificate.
 */
export function toMihomoProxy(link: ShareLink, name: string): ProxyMapping {
  try {
    return { ok: true, proxy: build(link, name) };
  } catch (err) {
    if (err instanceof Unmappable) return { ok: false, reason: err.message };
    throw err;
  }
}

function build(link: ShareLink, name: string): MihomoProxy {
  const base: MihomoProxy = { name, type: link.protocol, server: link.host, port: link.port };
  switch (link.protocol) {
    case "vmess":
      return {
        ...base,
        uuid: link.uuid ?? "",
        alterId: link.alterId ?? 0,
        cipher: link.method ?? "auto",
        udp: true,
        ...tls(link, "servername"),
        ...transport(link),
      };
    case "vless":
      return {
        ...base,
        uuid: link.uuid ?? "",
        udp: true,
        ...(link.flow ? { flow: link.flow } : {}),
        // "none" is VLESS's only classic value; anything else is the newer VLESS Encryption.
        ...(link.encryption && link.encryption !== "none" ? { encryption: link.encryption } : {}),
        ...tls(link, "servername"),
        ...transport(link),
      };
    case "trojan": {
      if (link.security === "none") {
        throw new Unmappable("mihomo's trojan always speaks TLS; this link says security=none");
      }
      const { tls: _always, ...tlsFields } = tls(link, "sni");
      return { ...base, password: link.password ?? "", udp: true, ...tlsFields, ...transport(link) };
    }
    case "ss":
      return {
        ...base,
        cipher: link.method ?? "",
        password: link.password ?? "",
        udp: true,
        ...ssPlugin(link.plugin),
      };
    case "ssr":
      return {
        ...base,
        cipher: link.method ?? "",
        password: link.password ?? "",
        obfs: link.obfs ?? "plain",
        protocol: link.ssrProtocol ?? "origin",
        ...(link.obfsParam !== undefined ? { "obfs-param": link.obfsParam } : {}),
        ...(link.ssrProtocolParam !== undefined ? { "protocol-param": link.ssrProtocolParam } : {}),
        udp: true,
      };
    case "hysteria2":
      return hysteria2(link, base);
    case "tuic":
      return tuic(link, base);
    case "socks5":
      return { ...base, ...credentials(link), udp: true };
    case "http":
      return { ...base, ...credentials(link) };
    case "https":
      return {
        ...base,
        type: "http",
        ...credentials(link),
        tls: true,
        ...(link.sni ? { sni: link.sni } : {}),
      };
    default:
      throw new Unmappable(`mihomo has no proxy type for protocol "${String(link.protocol)}"`);
  }
}

function alpnList(alpn: string | undefined): string[] | undefined {
  if (alpn === undefined) return undefined;
  const list = alpn
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  return list.length === 0 ? undefined : list;
}

/** TLS and REALITY fields shared by vmess, vless and trojan. */
function tls(link: ShareLink, sniKey: "servername" | "sni"): MihomoProxy {
  if (link.security === "none" || link.security === "") return {};
  const out: MihomoProxy = { tls: true };
  if (link.sni) out[sniKey] = link.sni;
  const alpn = alpnList(link.alpn);
  if (alpn) out["alpn"] = alpn;
  if (link.fingerprint) out["client-fingerprint"] = link.fingerprint;
  if (link.allowInsecure) out["skip-cert-verify"] = true;
  if (link.security === "reality") {
    if (!link.realityPublicKey) throw new Unmappable("REALITY link without a public key (pbk)");
    out["reality-opts"] = {
      "public-key": link.realityPublicKey,
      ...(link.realityShortId ? { "short-id": link.realityShortId } : {}),
    };
    // REALITY needs a uTLS hello; mihomo refuses it without one, and v2rayN's default is chrome.
    if (!link.fingerprint) out["client-fingerprint"] = "chrome";
  }
  return out;
}

/** `/path?ed=2048` is Xray's way to ask for WebSocket early data; mihomo wants it as two fields. */
function wsOpts(link: ShareLink, httpUpgrade: boolean): MihomoProxy {
  let path = link.path ?? "/";
  const opts: MihomoProxy = {};
  const match = /^(.*?)\?(?:.*&)?ed=(\d+)(?:&|$)/.exec(path);
  if (match && !httpUpgrade) {
    path = match[1] === "" ? "/" : (match[1] ?? "/");
    opts["max-early-data"] = Number(match[2]);
    opts["early-data-header-name"] = "Sec-WebSocket-Protocol";
  }
  const out: MihomoProxy = {
    path,
    ...(link.hostHeader ? { headers: { Host: link.hostHeader } } : {}),
    ...opts,
  };
  if (httpUpgrade) out["v2ray-http-upgrade"] = true;
  return out;
}

function transport(link: ShareLink): MihomoProxy {
  const network = link.network === "" ? "tcp" : link.network;
  const trojan = link.protocol === "trojan";
  switch (network) {
    case "tcp":
    case "raw":
      if (link.headerType === "http" && !trojan) {
        return {
          network: "http",
          "http-opts": {
            method: "GET",
            path: [link.path ?? "/"],
            ...(link.hostHeader
              ? { headers: { Host: link.hostHeader.split(",").map((h) => h.trim()) } }
              : {}),
          },
        };
      }
      return trojan ? {} : { network: "tcp" };
    case "ws":
      return { network: "ws", "ws-opts": wsOpts(link, false) };
    case "httpupgrade":
      return { network: "ws", "ws-opts": wsOpts(link, true) };
    case "grpc":
      return { network: "grpc", "grpc-opts": { "grpc-service-name": link.path ?? "" } };
    case "h2":
    case "http":
      if (trojan) break;
      return {
        network: "h2",
        "h2-opts": {
          ...(link.hostHeader ? { host: link.hostHeader.split(",").map((h) => h.trim()) } : {}),
          path: link.path ?? "/",
        },
      };
    case "xhttp":
    case "splithttp":
      if (link.protocol !== "vless") break;
      return {
        network: "xhttp",
        "xhttp-opts": {
          path: link.path ?? "/",
          ...(link.hostHeader ? { host: link.hostHeader } : {}),
          ...(link.params["mode"] ? { mode: link.params["mode"] } : {}),
        },
      };
  }
  throw new Unmappable(`mihomo's ${link.protocol} has no "${network}" transport`);
}

/** SIP003 plugins mihomo implements itself: simple-obfs, v2ray-plugin (websocket mode), shadow-tls. */
function ssPlugin(pluginText: string | undefined): MihomoProxy {
  if (pluginText === undefined || pluginText.trim() === "") return {};
  const { name, options } = parseSip003(pluginText);
  const get = (k: string) => options.get(k);
  switch (name) {
    case "obfs-local":
    case "simple-obfs":
    case "obfs": {
      const mode = get("obfs") ?? "http";
      if (mode !== "http" && mode !== "tls")
        throw new Unmappable(`simple-obfs mode "${mode}" is not http or tls`);
      return {
        plugin: "obfs",
        "plugin-opts": { mode, ...(get("obfs-host") ? { host: get("obfs-host") ?? "" } : {}) },
      };
    }
    case "v2ray-plugin": {
      const mode = get("mode") ?? "websocket";
      if (mode !== "websocket")
        throw new Unmappable(`mihomo's v2ray-plugin has no "${mode}" mode (websocket only)`);
      return {
        plugin: "v2ray-plugin",
        "plugin-opts": {
          mode,
          tls: options.has("tls"),
          ...(get("host") ? { host: get("host") ?? "" } : {}),
          path: get("path") || "/",
          // v2ray-plugin multiplexes unless told mux=0.
          mux: get("mux") !== "0",
        },
      };
    }
    case "shadow-tls": {
      const version = Number(get("version") ?? "2");
      return {
        plugin: "shadow-tls",
        "plugin-opts": {
          ...(get("host") ? { host: get("host") ?? "" } : {}),
          ...(get("password") ? { password: get("password") ?? "" } : {}),
          version: Number.isInteger(version) ? version : 2,
        },
      };
    }
    default:
      throw new Unmappable(`mihomo does not implement the shadowsocks plugin "${name}"`);
  }
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}

function hysteria2(link: ShareLink, base: MihomoProxy): MihomoProxy {
  const p = link.params;
  const ports = link.ports ?? p["mport"];
  const alpn = alpnList(link.alpn);
  const pin = p["pinSHA256"]?.replace(/:/g, "").toLowerCase();
  return {
    ...base,
    ...(link.password !== undefined ? { password: link.password } : {}),
    ...(ports ? { ports } : {}),
    ...(link.sni ? { sni: link.sni } : {}),
    ...(link.allowInsecure ? { "skip-cert-verify": true } : {}),
    ...(alpn ? { alpn } : {}),
    ...(p["obfs"] && p["obfs"] !== "none" ? { obfs: p["obfs"] } : {}),
    ...(p["obfs-password"] ? { "obfs-password": p["obfs-password"] } : {}),
    ...(pin ? { fingerprint: pin } : {}),
    udp: true,
  };
}

function tuic(link: ShareLink, base: MihomoProxy): MihomoProxy {
  const p = link.params;
  const disableSni = flag(p["disable_sni"]);
  const reduceRtt = flag(p["reduce_rtt"]);
  return {
    ...base,
    // TUIC v5 is uuid:password; a v4 link carries only a token where the uuid would be.
    ...(link.password !== undefined
      ? { uuid: link.uuid ?? "", password: link.password }
      : { token: link.uuid ?? "" }),
    ...(link.sni ? { sni: link.sni } : {}),
    alpn: alpnList(link.alpn) ?? ["h3"],
    ...(link.allowInsecure ? { "skip-cert-verify": true } : {}),
    ...(p["congestion_control"] ? { "congestion-controller": p["congestion_control"] } : {}),
    ...(p["udp_relay_mode"] ? { "udp-relay-mode": p["udp_relay_mode"] } : {}),
    ...(disableSni !== undefined ? { "disable-sni": disableSni } : {}),
    ...(reduceRtt !== undefined ? { "reduce-rtt": reduceRtt } : {}),
    udp: true,
  };
}

function credentials(link: ShareLink): MihomoProxy {
  return {
    ...(link.username !== undefined ? { username: link.username } : {}),
    ...(link.password !== undefined ? { password: link.password } : {}),
  };
}
