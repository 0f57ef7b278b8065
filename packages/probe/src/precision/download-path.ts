/**
 * The way the precision test's bytes travel: through the node (`openThroughNode`, native or via a
 * core of its own) or, when asked, straight from this machine. Either way one dispatcher, a byte
 * meter on the first-hop socket and one `close()`.
 */
import type { ShareLink } from "@viper/protocol";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { type ByteCount, ByteMeter, meteredConnector } from "../meter.js";
import { openThroughNode } from "../through-node.js";

export type PathKind = "native" | "core" | "direct";

/** Which socket the traffic figure was read from (see the README's "Bytes for the traffic ledger"). */
export type TrafficCounted = "node-socket" | "core-inbound" | "direct-socket";

export interface DownloadPath {
  kind: PathKind;
  counted: TrafficCounted;
  dispatcher: Dispatcher;
  traffic(): ByteCount;
  close(): Promise<void>;
}

export type DownloadVia = { link: ShareLink; direct?: never } | { direct: true; link?: never };

export async function openDownloadPath(
  via: DownloadVia,
  options: { v2rayBin?: string | null | undefined; connectTimeoutMs: number; signal: AbortSignal },
): Promise<DownloadPath> {
  if (via.direct === true) return directPath(options.connectTimeoutMs);
  const node = await openThroughNode(via.link, {
    connectTimeoutMs: options.connectTimeoutMs,
    signal: options.signal,
    ...(options.v2rayBin !== undefined ? { v2rayBin: options.v2rayBin } : {}),
  });
  return {
    kind: node.via,
    counted: node.via === "core" ? "core-inbound" : "node-socket",
    dispatcher: node.dispatcher,
    traffic: () => node.traffic(),
    close: () => node.close(),
  };
}

function directPath(connectTimeoutMs: number): DownloadPath {
  const meter = new ByteMeter();
  const agent = new Agent({
    connections: 1,
    connect: meteredConnector(buildConnector({ timeout: connectTimeoutMs }), meter),
  });
  let closed: Promise<void> | null = null;
  return {
    kind: "direct",
    counted: "direct-socket",
    dispatcher: agent,
    traffic: () => meter.totals(),
    close() {
      closed ??= (async () => {
        await agent.destroy().catch(() => {});
        meter.destroyAll();
      })();
      return closed;
    },
  };
}
