/**
 * A long-lived path through one node, for downloads (the precision test): an undici dispatcher
 * that goes through the node natively or through a core of its own, with byte counting and one
 * `close()` that ends everything (the core included).
 */
import type { ShareLink } from "@viper/protocol";
import type { Dispatcher } from "undici";
import { type Core, CoreStartError, startCore } from "./core.js";
import { nativeDispatcher, proxyDispatcher } from "./dispatchers.js";
import { DEFAULT_PROBE_TIMEOUT_MS, locateV2ray } from "./env.js";
import { type ByteCount, ByteMeter } from "./meter.js";
import { throughNodeSupport } from "./support.js";

export interface ThroughNode {
  via: "native" | "core";
  /** The pid of the core started for this node; null for native nodes. */
  corePid: number | null;
  /** Pass to `undici.request(url, { dispatcher })` (wire bytes, no decompression) or `undici.fetch`. */
  dispatcher: Dispatcher;
  /** Bytes so far on the first-hop socket (for `via: "core"`, the tunnelled bytes: an estimate). */
  traffic(): ByteCount;
  /** Closes the dispatcher and stops the core, if any. Idempotent. */
  close(): Promise<void>;
}

export type ThroughNodeFailure = "unsupported" | "no-core" | "core-failed";

export class ThroughNodeError extends Error {
  override name = "ThroughNodeError";
  constructor(
    readonly failure: ThroughNodeFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenThroughNodeOptions {
  /** undefined → V2RAY_BIN or PATH; null → no core (core nodes then fail with "no-core"). */
  v2rayBin?: string | null;
  /** Bounds connecting to the node (not the transfer). Default 5000. */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

export async function openThroughNode(
  link: ShareLink,
  options: OpenThroughNodeOptions = {},
): Promise<ThroughNode> {
  const support = throughNodeSupport(link);
  if (support.kind === "unsupported") throw new ThroughNodeError("unsupported", support.reason);
  const meter = new ByteMeter();
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;

  let core: Core | null = null;
  let dispatcher: Dispatcher;
  if (support.kind === "native") {
    dispatcher = nativeDispatcher(link, { meter, connectTimeoutMs });
  } else {
    const v2rayBin = options.v2rayBin === undefined ? locateV2ray() : options.v2rayBin;
    if (v2rayBin === null) {
      throw new ThroughNodeError(
        "no-core",
        "v2ray is needed for this node and was not found (set V2RAY_BIN)",
      );
    }
    try {
      core = await startCore([link], { v2rayBin, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (error instanceof CoreStartError) throw new ThroughNodeError("core-failed", error.message);
      throw error;
    }
    dispatcher = proxyDispatcher(core.endpoints[0]!.proxyUrl, { meter, connectTimeoutMs });
  }

  let closed: Promise<void> | null = null;
  return {
    via: support.kind,
    corePid: core?.pid ?? null,
    dispatcher,
    traffic: () => meter.totals(),
    close() {
      closed ??= (async () => {
        await dispatcher.destroy().catch(() => {});
        meter.destroyAll();
        await core?.close();
      })();
      return closed;
    },
  };
}
