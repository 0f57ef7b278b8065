/** openThroughNode: a download path through one node, native or via its own core. */
import { type Dispatcher, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openThroughNode, ThroughNodeError } from "../src/through-node.js";
import { startFileServer } from "./support/file-server.js";
import { link, UUID } from "./support/links.js";
import { isRunning, NODES_SKIP_REASON, needsNodes, V2RAY } from "./support/v2ray.js";
import { startWorld, type World } from "./support/world.js";

const SIZE = 2_000_000;

async function download(dispatcher: Dispatcher, url: string) {
  const response = await request(url, { dispatcher });
  let bytes = 0;
  for await (const chunk of response.body) bytes += (chunk as Buffer).byteLength;
  return { status: response.statusCode, bytes };
}

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("openThroughNode"), () => {
  let world: World;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  beforeAll(async () => {
    [world, files] = await Promise.all([startWorld(V2RAY!), startFileServer()]);
  });
  afterAll(async () => {
    await Promise.all([world?.close(), files?.close()]);
  });

  it.each(["vmessWs", "trojanTls", "ssGcm", "socksAuth", "http"] as const)(
    "downloads through the %s node and meters at least the bytes received",
    async (name) => {
      const path = await openThroughNode(world.server.nodes[name], { v2rayBin: V2RAY });
      try {
        const { status, bytes } = await download(path.dispatcher, `${files.origin}/bytes/${SIZE}`);
        expect(status).toBe(200);
        expect(bytes).toBe(SIZE);
        const traffic = path.traffic();
        expect(traffic.bytesIn).toBeGreaterThanOrEqual(SIZE);
        expect(traffic.bytesIn).toBeLessThan(SIZE + 16 * 1024);
        expect(traffic.bytesOut).toBeGreaterThan(0);
      } finally {
        await path.close();
      }
      if (path.via === "core") expect(isRunning(path.corePid!)).toBe(false);
      else expect(path.corePid).toBeNull();
    },
  );

  it("refuses what cannot be tested through, saying why", async () => {
    const error = await openThroughNode(link("vless", 443, { uuid: UUID, security: "reality" }), {
      v2rayBin: V2RAY,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThroughNodeError);
    expect((error as ThroughNodeError).failure).toBe("unsupported");
    const noCore = await openThroughNode(world.server.nodes.vmess, { v2rayBin: null }).catch(
      (e: unknown) => e,
    );
    expect((noCore as ThroughNodeError).failure).toBe("no-core");
  });
});
