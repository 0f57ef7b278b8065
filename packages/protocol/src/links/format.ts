import type { Protocol, ShareLink } from "../types.js";
import { formatHysteria2 } from "./hysteria2.js";
import { formatPlainProxy } from "./proxy-url.js";
import { formatSs } from "./ss.js";
import { formatSsr } from "./ssr.js";
import { formatTuic } from "./tuic.js";
import { formatVmess } from "./vmess.js";
import { formatXrayUrl } from "./xray-url.js";

const FORMATTERS: Record<Protocol, (link: ShareLink) => string> = {
  vmess: formatVmess,
  vless: formatXrayUrl,
  trojan: formatXrayUrl,
  ss: formatSs,
  ssr: formatSsr,
  hysteria2: formatHysteria2,
  tuic: formatTuic,
  socks5: formatPlainProxy,
  http: formatPlainProxy,
  https: formatPlainProxy,
};

/**
 * Writes a ShareLink back in canonical form: query parameters sorted by key, empty ones dropped,
 * names percent-encoded in the fragment, vmess as v2rayN base64 JSON (std base64, padded).
 * parse → format → parse gives the same ShareLink, and formatting that again the same string.
 */
export function formatShareLink(link: ShareLink): string {
  const format = FORMATTERS[link.protocol];
  if (format === undefined)
    throw new TypeError(`@viper/protocol: cannot format protocol "${String(link.protocol)}"`);
  return format(link);
}
