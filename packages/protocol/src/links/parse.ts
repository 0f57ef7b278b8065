import type { ParseResult, Protocol, ShareLink } from "../types.js";
import { LinkError } from "./errors.js";
import { parseHysteria2 } from "./hysteria2.js";
import { parsePlainProxy } from "./proxy-url.js";
import { parseSs } from "./ss.js";
import { parseSsr } from "./ssr.js";
import { toWellFormed } from "./text.js";
import { parseTuic } from "./tuic.js";
import { parseVmess } from "./vmess.js";
import { parseXrayUrl } from "./xray-url.js";

/** Longer input is refused before any work: real share links are a few hundred characters. */
export const MAX_LINK_LENGTH = 65_536;

const PARSERS: Record<string, (rest: string) => ShareLink> = {
  vmess: parseVmess,
  vless: (rest) => parseXrayUrl("vless", rest),
  trojan: (rest) => parseXrayUrl("trojan", rest),
  ss: parseSs,
  ssr: parseSsr,
  hysteria2: parseHysteria2,
  hy2: parseHysteria2,
  tuic: parseTuic,
  socks: (rest) => parsePlainProxy("socks5", rest),
  socks5: (rest) => parsePlainProxy("socks5", rest),
  socks5h: (rest) => parsePlainProxy("socks5", rest),
  http: (rest) => parsePlainProxy("http", rest),
  https: (rest) => parsePlainProxy("https", rest),
};

/** Scheme names as written in links, mapped to the protocol they stand for (hy2 → hysteria2, socks → socks5). */
export const SCHEME_ALIASES: Readonly<Record<string, Protocol>> = {
  vmess: "vmess",
  vless: "vless",
  trojan: "trojan",
  ss: "ss",
  shadowsocks: "ss",
  ssr: "ssr",
  shadowsocksr: "ssr",
  hysteria2: "hysteria2",
  hy2: "hysteria2",
  tuic: "tuic",
  socks: "socks5",
  socks5: "socks5",
  socks5h: "socks5",
  http: "http",
  https: "https",
};

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]{0,31}):\/\//;

/**
 * Parses a share link into a ShareLink. Never throws: hostile or broken input gives
 * `{ ok: false, error }` with a message that says what is wrong.
 */
export function parseShareLink(link: string): ParseResult {
  try {
    if (typeof link !== "string") return { ok: false, error: "a share link must be a string" };
    const text = link.trim();
    if (text === "") return { ok: false, error: "the share link is empty" };
    if (text.length > MAX_LINK_LENGTH) {
      return { ok: false, error: `the share link is longer than ${MAX_LINK_LENGTH} characters` };
    }
    const match = SCHEME.exec(text);
    if (match === null) return { ok: false, error: "not a share link: expected scheme://… (e.g. vless://…)" };
    const scheme = (match[1] ?? "").toLowerCase();
    const parse = PARSERS[scheme];
    if (parse === undefined) {
      return {
        ok: false,
        error: `unsupported scheme "${scheme}://" (supported: ${Object.keys(PARSERS).join(", ")})`,
      };
    }
    try {
      return { ok: true, link: parse(toWellFormed(text.slice(match[0].length))) };
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      // Every message names the scheme, so "url: vless: port is missing" reads on its own.
      const error = err.message.startsWith(`${scheme}:`) ? err.message : `${scheme}: ${err.message}`;
      return { ok: false, error };
    }
  } catch (err) {
    return {
      ok: false,
      error: `the share link could not be parsed (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}
