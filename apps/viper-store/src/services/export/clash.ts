import { parseShareLink } from "@viper/protocol";
import type { NodeView } from "../node-query.js";
import { type MihomoProxy, type ProxyMapping, toMihomoProxy } from "./mihomo-proxy.js";
import { UniqueNames } from "./unique-names.js";
import { appendYamlLines, type YamlValue } from "./yaml-emit.js";

/** The select group every rule points at; a url-test group inside it picks the fastest node. */
export const CLASH_SELECT_GROUP = "Viper";
export const CLASH_AUTO_GROUP = "Viper Auto";
/** Policies mihomo defines itself; a node with one of these names would shadow it. */
const BUILT_IN_POLICIES = ["DIRECT", "REJECT", "REJECT-DROP", "PASS", "COMPATIBLE", "GLOBAL"];
const URL_TEST = { url: "https://www.gstatic.com/generate_204", interval: 300 };

export interface SkippedNode {
  id: string;
  name: string;
  reason: string;
}

export interface ClashProfile {
  text: string;
  /** Node names as written under `proxies:`, in input order. */
  proxyNames: string[];
  /** Nodes that could not be written (also listed in a comment at the top of `text`). */
  skipped: SkippedNode[];
}

/** Control characters and line separators are shown as spaces: a proxy name is one line in every client. */
function displayName(view: NodeView): string {
  const name = view.name.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, " ").trim();
  return name === "" ? `${view.protocol} ${view.host}:${view.port}` : name;
}

function commentLine(text: string): string {
  return `#   ${text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, " ")}`;
}

/**
 * A mihomo (Clash Meta) profile: every node that mihomo can express under `proxies:` with a
 * unique name, a select group holding them all (plus a lazy url-test group), and one MATCH rule,
 * so the file can be imported as a subscription as it is.
 */
export function toClashProfile(views: readonly NodeView[]): ClashProfile {
  const names = new UniqueNames([...BUILT_IN_POLICIES, CLASH_SELECT_GROUP, CLASH_AUTO_GROUP]);
  const proxyNames: string[] = [];
  const skipped: SkippedNode[] = [];
  const proxyLines: string[] = [];
  for (const view of views) {
    const parsed = parseShareLink(view.url);
    const mapping: ProxyMapping = parsed.ok
      ? toMihomoProxy(parsed.link, "")
      : { ok: false, reason: `the share link does not parse: ${parsed.error}` };
    if (!mapping.ok) {
      skipped.push({ id: view.id, name: view.name, reason: mapping.reason });
      continue;
    }
    // The name is only taken once the node is known to be written, so skipped nodes leave no gaps.
    const name = names.take(displayName(view));
    const proxy: MihomoProxy = { ...mapping.proxy, name };
    proxyNames.push(name);
    appendYamlLines([proxy], 2, proxyLines);
  }

  const out: string[] = [];
  if (skipped.length > 0) {
    out.push(
      `# ${skipped.length} node(s) could not be written as mihomo proxies and are not in this profile:`,
    );
    for (const s of skipped) out.push(commentLine(`${s.id} ${JSON.stringify(s.name)}: ${s.reason}`));
  }
  const head: { [key: string]: YamlValue } = {
    "mixed-port": 7890,
    "allow-lan": false,
    mode: "rule",
    "log-level": "info",
  };
  appendYamlLines(head, 0, out);
  out.push(proxyLines.length === 0 ? "proxies: []" : "proxies:");
  for (const line of proxyLines) out.push(line);
  const groups: YamlValue[] =
    proxyNames.length === 0
      ? [{ name: CLASH_SELECT_GROUP, type: "select", proxies: ["DIRECT"] }]
      : [
          { name: CLASH_SELECT_GROUP, type: "select", proxies: [CLASH_AUTO_GROUP, ...proxyNames] },
          { name: CLASH_AUTO_GROUP, type: "url-test", ...URL_TEST, lazy: true, proxies: proxyNames },
        ];
  appendYamlLines({ "proxy-groups": groups, rules: [`MATCH,${CLASH_SELECT_GROUP}`] }, 0, out);
  return { text: `${out.join("\n")}\n`, proxyNames, skipped };
}
