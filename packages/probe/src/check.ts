/**
 * Through-the-node checks (DESIGN.md section 7): one HTTP request to the probe URL through each
 * node, natively for http/https/socks5, through one v2ray core per batch for vmess/vless/trojan/ss.
 */
import type { ShareLink } from "@viper/protocol";
import pLimit, { type LimitFunction } from "p-limit";
import { type Core, CoreStartError, startCore } from "./core.js";
import { nativeDispatcher, proxyDispatcher } from "./dispatchers.js";
import { DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_PROBE_URL, locateV2ray } from "./env.js";
import { type Hop, httpCheck } from "./http-check.js";
import { ByteMeter } from "./meter.js";
import { throughNodeSupport } from "./support.js";
import { tcpProbe } from "./tcp.js";

export type CheckMethod = "through-node" | "tcp" | "unsupported";

/** Where `bytesIn`/`bytesOut` were counted. */
export type BytesCounted =
  /** On the socket to the node: bytes on the wire. */
  | "node-socket"
  /** On the socket to the local core: the tunnelled bytes, without the node protocol's own overhead (an estimate). */
  | "core-inbound"
  /** Nothing was sent (TCP connect, unsupported). */
  | "none";

export interface CheckResult {
  /** true passed, false failed, null not determined (unsupported, or the core failed, not the node). */
  ok: boolean | null;
  /** Time to PROBE_URL's response headers through the node (tcp: the handshake). */
  latencyMs: number | null;
  method: CheckMethod;
  /** Why it failed or could not be checked; null when it passed. */
  error: string | null;
  /** PROBE_URL's HTTP status, when an answer came through. */
  httpStatus: number | null;
  bytesIn: number;
  bytesOut: number;
  bytesCounted: BytesCounted;
  /** Caveats the caller may show, e.g. why a TCP check replaced the through-node check. */
  note: string | null;
}

export interface CheckOptions {
  /** Default https://www.gstatic.com/generate_204. A check passes on HTTP 2xx. */
  probeUrl?: string;
  /** Per check, from the start of its request. Default 5000. */
  timeoutMs?: number;
  /** Checks in flight at once. Default 32. */
  concurrency?: number;
  /** Path to v2ray; undefined → V2RAY_BIN or PATH; null → no core (TCP fallback). */
  v2rayBin?: string | null;
  /** Nodes per core process (each is one listening port). Default 256. */
  coreBatchSize?: number;
  coreStartTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called when a core process is up (pid, nodes it serves, start-up time): for logs and tests. */
  onCoreStarted?: (core: { pid: number; nodes: number; startupMs: number }) => void;
  /** Receives one-time notices (e.g. v2ray missing). Default: once per process on stderr. */
  onNotice?: (message: string) => void;
}

export const NO_V2RAY_NOTE =
  "v2ray not found (install it, e.g. apt-get install v2ray, or set V2RAY_BIN): TCP reachability only, credentials not verified";

const printedNotices = new Set<string>();
function defaultNotice(message: string): void {
  if (printedNotices.has(message)) return;
  printedNotices.add(message);
  console.error(`[viper-probe] ${message}`);
}

interface Context {
  probeUrl: string;
  timeoutMs: number;
  limit: LimitFunction;
  signal: AbortSignal | undefined;
  notice: (message: string) => void;
  v2rayBin: string | null;
  coreStartTimeoutMs: number | undefined;
  onCoreStarted: CheckOptions["onCoreStarted"];
  results: CheckResult[];
}

interface Entry {
  index: number;
  link: ShareLink;
}

/** Checks every link; the results are in the order of `links`. */
export async function checkNodes(
  links: readonly ShareLink[],
  options: CheckOptions = {},
): Promise<CheckResult[]> {
  options.signal?.throwIfAborted();
  const ctx: Context = {
    probeUrl: options.probeUrl ?? DEFAULT_PROBE_URL,
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    limit: pLimit(options.concurrency ?? 32),
    signal: options.signal,
    notice: options.onNotice ?? defaultNotice,
    v2rayBin: null,
    coreStartTimeoutMs: options.coreStartTimeoutMs,
    onCoreStarted: options.onCoreStarted,
    results: new Array<CheckResult>(links.length),
  };
  const native: Entry[] = [];
  const core: Entry[] = [];
  links.forEach((link, index) => {
    const support = throughNodeSupport(link);
    if (support.kind === "native") native.push({ index, link });
    else if (support.kind === "core") core.push({ index, link });
    else ctx.results[index] = unsupportedResult(support.reason);
  });
  if (core.length > 0) {
    ctx.v2rayBin = options.v2rayBin === undefined ? locateV2ray() : options.v2rayBin;
  }

  const batchSize = Math.max(1, options.coreBatchSize ?? 256);
  const coreWork = async () => {
    if (ctx.v2rayBin === null) return tcpFallback(core, ctx, NO_V2RAY_NOTE);
    for (let i = 0; i < core.length; i += batchSize) {
      await checkThroughCore(core.slice(i, i + batchSize), ctx);
    }
  };
  await Promise.all([
    ...native.map((e) => ctx.limit(() => checkNative(e, ctx))),
    core.length > 0 ? coreWork() : Promise.resolve(),
  ]);
  return ctx.results;
}

/** One node; any core started for it has exited when this returns. */
export async function checkNode(link: ShareLink, options: CheckOptions = {}): Promise<CheckResult> {
  const [result] = await checkNodes([link], options);
  return result!;
}

async function checkNative(entry: Entry, ctx: Context): Promise<void> {
  ctx.signal?.throwIfAborted();
  const meter = new ByteMeter();
  const dispatcher = nativeDispatcher(entry.link, { meter, connectTimeoutMs: ctx.timeoutMs });
  ctx.results[entry.index] = await measuredCheck(dispatcher, meter, "node", ctx);
}

async function checkThroughCore(entries: Entry[], ctx: Context): Promise<void> {
  let core: Core;
  try {
    core = await startCore(
      entries.map((e) => e.link),
      {
        v2rayBin: ctx.v2rayBin!,
        ...(ctx.coreStartTimeoutMs ? { startTimeoutMs: ctx.coreStartTimeoutMs } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
    );
  } catch (error) {
    if (!(error instanceof CoreStartError)) throw error;
    return onCoreStartFailure(entries, error, ctx);
  }
  try {
    ctx.onCoreStarted?.({ pid: core.pid, nodes: entries.length, startupMs: core.startupMs });
    await Promise.all(
      entries.map((entry, i) =>
        ctx.limit(async () => {
          ctx.signal?.throwIfAborted();
          const meter = new ByteMeter();
          const endpoint = core.endpoints[i]!;
          const dispatcher = proxyDispatcher(endpoint.proxyUrl, { meter, connectTimeoutMs: ctx.timeoutMs });
          const result = await measuredCheck(dispatcher, meter, "core", ctx, entry.link);
          // A failure after the core died says nothing about the node.
          if (result.ok === false && !core.running) {
            result.ok = null;
            result.error = `not determined: ${core.crash ?? "the v2ray core stopped"}`;
          }
          ctx.results[entry.index] = result;
        }),
      ),
    );
  } finally {
    await core.close();
  }
}

/**
 * A batch whose config v2ray rejects is split in halves until the offending node is alone: one
 * bad link (say, a field v2ray refuses) must not leave a whole batch unchecked.
 */
async function onCoreStartFailure(entries: Entry[], error: CoreStartError, ctx: Context): Promise<void> {
  if (error.failure === "spawn-failed") {
    const note = `${error.message}: TCP reachability only, credentials not verified`;
    return tcpFallback(entries, ctx, note);
  }
  if (error.failure === "config-rejected" && entries.length > 1) {
    const half = Math.ceil(entries.length / 2);
    await checkThroughCore(entries.slice(0, half), ctx);
    await checkThroughCore(entries.slice(half), ctx);
    return;
  }
  for (const entry of entries) {
    ctx.results[entry.index] =
      error.failure === "config-rejected"
        ? unsupportedResult(`v2ray 4.34 refused this node's configuration: ${error.output || error.message}`)
        : { ...emptyResult("through-node"), ok: null, error: `not determined: ${error.message}` };
  }
}

async function measuredCheck(
  dispatcher: ReturnType<typeof proxyDispatcher>,
  meter: ByteMeter,
  hop: Hop,
  ctx: Context,
  refusalWatch?: ShareLink,
): Promise<CheckResult> {
  const failFast = new AbortController();
  const watching = refusalWatch ? watchForRefusal(refusalWatch, ctx, failFast) : null;
  try {
    const outcome = await httpCheck(dispatcher, ctx.probeUrl, {
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      failFast: failFast.signal,
      hop,
    });
    await dispatcher.destroy();
    const bytes = meter.totals();
    return {
      ok: outcome.ok,
      latencyMs: outcome.latencyMs,
      method: "through-node",
      error: outcome.error,
      httpStatus: outcome.status,
      ...bytes,
      bytesCounted: hop === "node" ? "node-socket" : "core-inbound",
      note: null,
    };
  } finally {
    failFast.abort(new Error("check finished"));
    await watching;
    await dispatcher.destroy().catch(() => {});
    meter.destroyAll();
  }
}

/** TCP failures that mean the node is not there, whatever the protocol on top. */
const DEFINITE_TCP_FAILURES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND"]);

/**
 * v2ray retries a failed dial for about 3 s (exponential backoff, 5 attempts), so a closed port
 * behind the core would look like a timeout. A direct TCP connect, raced against the request,
 * tells a refused port at once; it adds no latency to live nodes. Not for UDP transports.
 */
async function watchForRefusal(link: ShareLink, ctx: Context, failFast: AbortController): Promise<void> {
  const network = (link.network || "tcp").toLowerCase();
  if (network === "kcp" || network === "mkcp" || network === "quic") return;
  try {
    const probe = await tcpProbe(link, { attempts: 1, timeoutMs: ctx.timeoutMs, signal: failFast.signal });
    const code = probe.attempts[0]?.code;
    if (!probe.ok && code && DEFINITE_TCP_FAILURES.has(code)) failFast.abort(new Error(probe.error ?? code));
  } catch {
    // aborted because the check finished first
  }
}

async function tcpFallback(entries: Entry[], ctx: Context, note: string): Promise<void> {
  ctx.notice(note);
  await Promise.all(
    entries.map((entry) =>
      ctx.limit(async () => {
        const probe = await tcpProbe(entry.link, {
          attempts: 1,
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        });
        ctx.results[entry.index] = {
          ...emptyResult("tcp"),
          ok: probe.ok,
          latencyMs: probe.latencyMs,
          error: probe.error,
          note,
        };
      }),
    ),
  );
}

function unsupportedResult(reason: string): CheckResult {
  return { ...emptyResult("unsupported"), ok: null, error: reason };
}

function emptyResult(method: CheckMethod): CheckResult {
  return {
    ok: null,
    latencyMs: null,
    method,
    error: null,
    httpStatus: null,
    bytesIn: 0,
    bytesOut: 0,
    bytesCounted: "none",
    note: null,
  };
}
