/**
 * Real nodes on loopback for the store's check tests: @viper/probe's own test world (one v2ray
 * server with vmess/vless/trojan/ss/socks/http inbounds, a 204 target, a blackhole, a closed port),
 * imported from that package's test support so the two never drift apart.
 */
export { closedPort, startBlackhole, startTarget } from "../../../packages/probe/test/support/target.js";
export { NODES_SKIP_REASON, needsNodes, V2RAY } from "../../../packages/probe/test/support/v2ray.js";
export { startWorld, type World } from "../../../packages/probe/test/support/world.js";

import { formatShareLink, type ShareLink } from "@viper/protocol";

/** A hunter's node record for a loopback link, under a name the tests look it up by. */
export function hunterNode(name: string, link: ShareLink, extra: Record<string, unknown> = {}) {
  return { url: formatShareLink({ ...link, name }), name, country: "SG", ...extra };
}
