/**
 * Which nodes can be checked through, and how. v2ray 4.34 (Debian's package) silently accepts
 * configurations it cannot honour (a REALITY or XTLS vless outbound passes `v2ray -test` and then
 * talks plain TCP), so a node must be classified here, before any core runs, or it would be
 * reported dead when it is merely untestable.
 */
import type { ShareLink } from "@viper/protocol";

export type SupportKind = "native" | "core" | "unsupported";

export type ThroughNodeSupport =
  | { kind: "native" }
  | { kind: "core" }
  | { kind: "unsupported"; reason: string };

/** Ciphers v2ray 4.34 accepts (checked with `v2ray -test`: the stream ciphers and xchacha20 are refused). */
export const CORE_SS_METHODS: ReadonlySet<string> = new Set([
  "aes-128-gcm",
  "aes-256-gcm",
  "chacha20-poly1305",
  "chacha20-ietf-poly1305",
  "none",
  "plain",
]);

/** Transports of v2ray 4.34. No grpc (added in 4.36), no httpupgrade/splithttp/xhttp (Xray, v5). */
export const CORE_NETWORKS: ReadonlySet<string> = new Set([
  "tcp",
  "raw",
  "ws",
  "websocket",
  "h2",
  "http",
  "kcp",
  "mkcp",
  "quic",
]);

/** vmess `scy` values v2ray 4.34 knows. */
export const CORE_VMESS_SECURITY: ReadonlySet<string> = new Set([
  "auto",
  "aes-128-gcm",
  "chacha20-poly1305",
  "none",
  "zero",
]);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const UNSUPPORTED_PROTOCOL: Partial<Record<ShareLink["protocol"], string>> = {
  hysteria2: "hysteria2 (QUIC) is not implemented by v2ray 4.34; a sing-box or hysteria core would be needed",
  tuic: "tuic is not implemented by v2ray 4.34; a sing-box core would be needed",
  ssr: "ShadowsocksR is not implemented by v2ray 4.34",
};

export function throughNodeSupport(link: ShareLink): ThroughNodeSupport {
  switch (link.protocol) {
    case "http":
    case "https":
    case "socks5":
      return { kind: "native" };
    case "hysteria2":
    case "tuic":
    case "ssr":
      return unsupported(UNSUPPORTED_PROTOCOL[link.protocol]!);
    case "vmess":
    case "vless":
    case "trojan":
    case "ss":
      return coreSupport(link);
    default:
      return unsupported(`protocol ${String(link.protocol)} is not known to the probe`);
  }
}

function coreSupport(link: ShareLink): ThroughNodeSupport {
  const security = normalizedSecurity(link);
  if (security === "reality") return unsupported("REALITY needs Xray; v2ray 4.34 would connect without it");
  if (security === "xtls") return unsupported("XTLS needs Xray; v2ray 4.34 would connect without it");
  if (security !== "none" && security !== "tls")
    return unsupported(`security "${link.security}" is unknown to v2ray 4.34`);
  if (link.flow) return unsupported(`flow ${link.flow} (XTLS) needs Xray; v2ray 4.34 ignores it`);

  const network = (link.network || "tcp").toLowerCase();
  if (!CORE_NETWORKS.has(network)) return unsupported(`transport "${link.network}" is not in v2ray 4.34`);

  switch (link.protocol) {
    case "vmess":
    case "vless":
      if (!link.uuid || !UUID.test(link.uuid)) {
        return unsupported(`user id "${link.uuid ?? ""}" is not a UUID; v2ray 4.34 cannot map other ids`);
      }
      if (link.protocol === "vless" && link.encryption && link.encryption !== "none") {
        return unsupported(`vless encryption "${link.encryption}" is unknown to v2ray 4.34`);
      }
      if (link.protocol === "vmess" && link.method && !CORE_VMESS_SECURITY.has(link.method.toLowerCase())) {
        return unsupported(`vmess security "${link.method}" is unknown to v2ray 4.34`);
      }
      return { kind: "core" };
    case "trojan":
      if (!link.password) return unsupported("trojan link has no password");
      return { kind: "core" };
    case "ss":
      return ssSupport(link);
    default:
      return unsupported(`protocol ${link.protocol} is not run through the core`);
  }
}

function ssSupport(link: ShareLink): ThroughNodeSupport {
  const method = (link.method ?? "").toLowerCase();
  if (method.startsWith("2022-"))
    return unsupported(`shadowsocks-2022 (${link.method}) is not in v2ray 4.34`);
  if (!CORE_SS_METHODS.has(method))
    return unsupported(`shadowsocks cipher "${link.method ?? ""}" is not in v2ray 4.34`);
  if (link.plugin) {
    const plugin = parsePlugin(link.plugin);
    if (plugin.name !== "v2ray-plugin") {
      return unsupported(
        `SIP003 plugin ${plugin.name} needs its own plugin process, which the probe does not run`,
      );
    }
    if (plugin.options.get("mode") && plugin.options.get("mode") !== "websocket") {
      return unsupported(`v2ray-plugin mode ${plugin.options.get("mode")} is not supported`);
    }
  }
  return { kind: "core" };
}

/** The protocol's default applies when the link leaves security empty (trojan: tls). */
export function normalizedSecurity(link: ShareLink): string {
  const value = (link.security ?? "").toLowerCase();
  if (value === "" || value === "auto") return link.protocol === "trojan" ? "tls" : "none";
  return value;
}

export interface SsPlugin {
  name: string;
  /** Flags without a value (e.g. `tls`) map to "". */
  options: Map<string, string>;
}

/** SIP003 plugin string: `name;key=value;flag`. */
export function parsePlugin(plugin: string): SsPlugin {
  const [name = "", ...parts] = plugin.split(";");
  const options = new Map<string, string>();
  for (const part of parts) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0) options.set(part, "");
    else options.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { name: name.trim(), options };
}

function unsupported(reason: string): ThroughNodeSupport {
  return { kind: "unsupported", reason };
}
