/** Shared types of the wire protocol v1 (DESIGN.md section 3). */

/** Every protocol a ShareLink can have (aliases such as `hy2` and `socks` are resolved to these). */
export const PROTOCOLS = [
  "vmess",
  "vless",
  "trojan",
  "ss",
  "ssr",
  "hysteria2",
  "tuic",
  "socks5",
  "http",
  "https",
] as const;
/** One of {@link PROTOCOLS}. */
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * One parsed share link. Fields a scheme does not use are absent.
 * `params` carries every other query parameter verbatim so that formatting loses nothing.
 */
export interface ShareLink {
  protocol: Protocol;
  /** Lower-cased, IPv6 without brackets. */
  host: string;
  port: number;
  /**
   * hysteria2 port-hopping list as written in the authority (`443,5000-6000`); `port` is then its
   * first port. Absent for a single port.
   */
  ports?: string;
  /** Display name (fragment, vmess `ps`); control characters stripped. */
  name: string;
  /** vmess / vless / tuic uuid. */
  uuid?: string;
  /** trojan, ss, ssr, hysteria2, tuic, socks/http password. */
  password?: string;
  /** ss / ssr cipher, vmess `scy`. */
  method?: string;
  /** socks / http user name. */
  username?: string;
  /** vmess alterId. */
  alterId?: number;
  /** ssr protocol, obfs and their params. */
  ssrProtocol?: string;
  ssrProtocolParam?: string;
  obfs?: string;
  obfsParam?: string;
  /** ss SIP003 plugin string (`name;opt=val;...`). */
  plugin?: string;
  /** Transport: tcp (default), ws, grpc, h2/http, quic, kcp, httpupgrade, xhttp... */
  network: string;
  /** ws/h2/httpupgrade path, or grpc serviceName. */
  path?: string;
  /** HTTP Host header (ws/h2) or obfs host. */
  hostHeader?: string;
  /** none | tls | reality | xtls ... ; absent in the link → the protocol's default. */
  security: string;
  sni?: string;
  alpn?: string;
  fingerprint?: string;
  /** REALITY public key, short id, spider x. */
  realityPublicKey?: string;
  realityShortId?: string;
  realitySpiderX?: string;
  /** vless flow, e.g. xtls-rprx-vision. */
  flow?: string;
  /** vless encryption (usually none). */
  encryption?: string;
  /** tcp/kcp/quic header type. */
  headerType?: string;
  allowInsecure?: boolean;
  /** hysteria2 port hopping spec (`mport` / `ports`), obfs etc. are kept in params. */
  params: Record<string, string>;
}

/** What parseShareLink returns: the link, or a message saying what is wrong with the text. */
export type ParseResult = { ok: true; link: ShareLink } | { ok: false; error: string };

/** The `event_type` values of a v1 payload (DESIGN 3.3). */
export const EVENT_TYPES = [
  "nodes_updated",
  "batch_test_complete",
  "nodes_snapshot",
  "measurements",
  "test_push",
] as const;
/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];
/** `delta`: upsert only; `snapshot`: the full current set of the source. */
export type Mode = "delta" | "snapshot";

/** A node after normalisation: what the store merges and the hash covers. */
export interface NormalizedNode {
  /** `n_` + 16 hex of sha256(node_key). */
  id: string;
  node_key: string;
  /** Canonical share link (formatShareLink of the parsed link). */
  url: string;
  name: string;
  protocol: Protocol;
  host: string;
  port: number;
  /** ISO 3166-1 alpha-2 upper case, or null. */
  country: string | null;
  /** ms; null = unknown. */
  latency: number | null;
  /** MB/s (10^6 bytes/s), measured; null = not measured. */
  speed: number | null;
  /** percent 0..100. */
  availability: number | null;
  /** Opaque score from old hunters (their `speed`); never shown as speed. */
  legacy_score: number | null;
  /** ISO 8601 UTC (`Z`); defaults to the payload timestamp. */
  tested_at: string;
}

/** A normalised payload: the envelope with defaults applied, and its normalised nodes. */
export interface Payload {
  event_type: EventType;
  mode: Mode;
  /** ISO 8601 UTC (`Z`). */
  timestamp: string;
  source: string;
  region: string | null;
  nodes: NormalizedNode[];
  total_count: number | null;
  verified_count: number | null;
}

/** A node that could not be normalised: its position in the payload's `nodes` and why. */
export interface NodeRejection {
  index: number;
  reason: string;
}

/** One envelope error (HTTP 400): the dotted path of the field (`""` for the whole body) and the message. */
export interface PayloadIssue {
  path: string;
  message: string;
}

/** What normalizePayload returns: a payload with per-node rejections and warnings, or envelope issues. */
export type NormalizeResult =
  | { ok: true; payload: Payload; rejected: NodeRejection[]; warnings: string[] }
  | { ok: false; issues: PayloadIssue[] };

/** Options of normalizePayload. */
export interface NormalizeOptions {
  /** Receipt time, used as the bare-array payload timestamp and for the future rule. Default: now. */
  now?: Date;
  /** Seconds a timestamp may lie in the future. Default 300. */
  toleranceS?: number;
}
