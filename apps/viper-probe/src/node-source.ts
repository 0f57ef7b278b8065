/**
 * Where `viper-probe run` takes its nodes from: a store's `/api/nodes` (every page of the active
 * nodes) or a node file (a v1 payload or the legacy nodes.json array, normalised by @viper/protocol).
 */
import { readFile } from "node:fs/promises";
import { normalizePayload, parseShareLink, type ShareLink } from "@viper/protocol";

/** A node to check: its share link as the source wrote it, and the parsed form. */
export interface SourceNode {
  url: string;
  link: ShareLink;
}

export interface SourceNodes {
  nodes: SourceNode[];
  /** Entries that could not be used (not a share link we can read, not normalisable). */
  skipped: number;
}

/** The node file cannot be read or is not a payload: a usage error (exit 2). */
export class NodeFileError extends Error {
  override name = "NodeFileError";
}

/** The store did not give its node list (unreachable, not 200, not the list shape): exit 3. */
export class StoreReadError extends Error {
  override name = "StoreReadError";
}

export const STORE_PAGE_SIZE = 500;

export interface ReadNodesOptions {
  /** Only these protocols (lower case); the store is asked to filter too. */
  protocols?: readonly string[];
  /** Per page request. Default 15 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function isStoreUrl(from: string): boolean {
  return /^https?:\/\//i.test(from);
}

export async function readNodes(from: string, options: ReadNodesOptions = {}): Promise<SourceNodes> {
  const result = isStoreUrl(from) ? await readStore(from, options) : await readNodeFile(from);
  if (!options.protocols) return result;
  const wanted = new Set(options.protocols);
  return { ...result, nodes: result.nodes.filter((n) => wanted.has(n.link.protocol)) };
}

/** Pages through `<store>/api/nodes?status=active&limit=500&offset=…` until `total` is reached. */
async function readStore(from: string, options: ReadNodesOptions): Promise<SourceNodes> {
  const base = new URL(from);
  // The store's base URL is the documented form; a pasted …/api/nodes works too.
  base.pathname = base.pathname.replace(/\/api\/nodes\/?$/, "").replace(/\/$/, "");
  base.search = "";
  const urls: string[] = [];
  for (let offset = 0; ; offset += STORE_PAGE_SIZE) {
    const page = new URL(`${base.href.replace(/\/$/, "")}/api/nodes`);
    page.searchParams.set("status", "active");
    page.searchParams.set("limit", String(STORE_PAGE_SIZE));
    page.searchParams.set("offset", String(offset));
    if (options.protocols) page.searchParams.set("protocol", options.protocols.join(","));
    const body = await getPage(page, options);
    for (const node of body.nodes) urls.push(node.url);
    if (body.nodes.length === 0 || offset + body.nodes.length >= body.total) break;
  }
  return fromUrls(urls, 0);
}

async function getPage(
  page: URL,
  options: ReadNodesOptions,
): Promise<{ total: number; nodes: { url: string }[] }> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  let response: Response;
  try {
    response = await fetch(page, {
      headers: { accept: "application/json" },
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
  } catch (error) {
    throw new StoreReadError(`cannot read ${page.href}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new StoreReadError(`the store answered ${response.status} to ${page.href}: ${text.slice(0, 300)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new StoreReadError(`${page.href} did not answer JSON`);
  }
  const list = body as { total?: unknown; nodes?: unknown };
  if (typeof list.total !== "number" || !Array.isArray(list.nodes)) {
    throw new StoreReadError(`${page.href} did not answer a node list ({ total, nodes })`);
  }
  const nodes = list.nodes.filter(
    (n): n is { url: string } => typeof (n as { url?: unknown })?.url === "string",
  );
  return { total: list.total, nodes };
}

async function readNodeFile(path: string): Promise<SourceNodes> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NodeFileError(`cannot read the node file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new NodeFileError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const normalized = normalizePayload(document);
  if (!normalized.ok) {
    const issues = normalized.issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    throw new NodeFileError(`${path} is not a node payload (a v1 payload or a nodes.json array): ${issues}`);
  }
  return fromUrls(
    normalized.payload.nodes.map((n) => n.url),
    normalized.rejected.length,
  );
}

function fromUrls(urls: readonly string[], alreadySkipped: number): SourceNodes {
  const nodes: SourceNode[] = [];
  let skipped = alreadySkipped;
  const seen = new Set<string>();
  for (const url of urls) {
    if (seen.has(url)) continue;
    seen.add(url);
    const parsed = parseShareLink(url);
    if (parsed.ok) nodes.push({ url, link: parsed.link });
    else skipped++;
  }
  return { nodes, skipped };
}
