/**
 * Through-node checks against real nodes on loopback: one v2ray server process with vmess, vless,
 * trojan, shadowsocks, socks and http inbounds in front of a local 204 target.
 */
import type { ShareLink } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckResult, checkNode, checkNodes } from "../src/check.js";
import { liveChildPids } from "../src/child-registry.js";
import { link, OTHER_UUID, UUID } from "./support/links.js";
import { isRunning, NODES_SKIP_REASON, needsNodes, V2RAY } from "./support/v2ray.js";
import { NODE_NAMES, type NodeName } from "./support/v2ray-server.js";
import { startWorld, type World } from "./support/world.js";

const REALITY = link("vless", 443, {
  host: "reality.example",
  uuid: UUID,
  security: "reality",
  flow: "xtls-rprx-vision",
  realityPublicKey: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw",
  realityShortId: "6ba85179e30d4fc2",
  fingerprint: "chrome",
  sni: "www.example",
});
const HYSTERIA2 = link("hysteria2", 443, { host: "hy2.example", password: "p", security: "tls" });

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("checkNodes through real nodes"), () => {
  let world: World;
  const corePids: number[] = [];
  let live: Record<NodeName, CheckResult>;
  let wrong: Record<string, CheckResult>;
  let unsupported: CheckResult[];
  let batchMs = 0;

  beforeAll(async () => {
    world = await startWorld(V2RAY!);
    const n = world.server.nodes;
    const wrongLinks: Record<string, ShareLink> = {
      vmessUuid: { ...n.vmess, uuid: OTHER_UUID },
      vlessUuid: { ...n.vless, uuid: OTHER_UUID },
      trojanPassword: { ...n.trojanTls, password: "wrong" },
      ssPassword: { ...n.ssGcm, password: "wrong" },
      socksPassword: { ...n.socksAuth, password: "wrong" },
      httpPassword: { ...n.http, password: "wrong" },
    };
    const links = [...NODE_NAMES.map((name) => n[name]), ...Object.values(wrongLinks), REALITY, HYSTERIA2];
    const started = performance.now();
    const results = await checkNodes(links, {
      probeUrl: world.target.url,
      timeoutMs: 2500,
      v2rayBin: V2RAY,
      onCoreStarted: ({ pid }) => corePids.push(pid),
    });
    batchMs = performance.now() - started;
    live = Object.fromEntries(NODE_NAMES.map((name, i) => [name, results[i]!])) as Record<
      NodeName,
      CheckResult
    >;
    wrong = Object.fromEntries(Object.keys(wrongLinks).map((k, i) => [k, results[NODE_NAMES.length + i]!]));
    unsupported = results.slice(-2);
  }, 30_000);
  afterAll(() => world?.close());

  it.each(NODE_NAMES)("live %s node passes through the node", (name) => {
    expect(live[name]).toMatchObject({ ok: true, method: "through-node", error: null, httpStatus: 204 });
    expect(live[name].latencyMs).toBeGreaterThan(0);
    expect(live[name].latencyMs).toBeLessThan(2500);
  });

  it("the target really was reached through the nodes", () => {
    expect(world.target.hits()).toBeGreaterThanOrEqual(NODE_NAMES.length);
  });

  it("one core process served the whole batch, and it is gone", () => {
    expect(corePids).toHaveLength(1);
    expect(isRunning(corePids[0]!)).toBe(false);
    expect(liveChildPids()).toEqual([]);
  });

  it("counts bytes: on the node's socket for native nodes, on the core inbound for the others", () => {
    for (const name of ["socks", "socksAuth", "http"] as const) {
      expect(live[name].bytesCounted).toBe("node-socket");
    }
    for (const name of ["vmess", "vless", "trojanTls", "ssGcm"] as const) {
      expect(live[name].bytesCounted).toBe("core-inbound");
    }
    for (const name of NODE_NAMES) {
      // A request line and headers went out, a 204 status line came back.
      expect(live[name].bytesOut).toBeGreaterThan(60);
      expect(live[name].bytesIn).toBeGreaterThan(15);
    }
  });

  it.each(["vmessUuid", "vlessUuid", "trojanPassword", "ssPassword", "socksPassword", "httpPassword"])(
    "a node with the wrong credential (%s) fails",
    (key) => {
      expect(wrong[key]).toMatchObject({ ok: false, method: "through-node" });
      expect(wrong[key]!.error).toBeTruthy();
    },
  );

  it("REALITY and hysteria2 come back unsupported (ok null), never dead", () => {
    expect(unsupported[0]).toMatchObject({ ok: null, method: "unsupported", latencyMs: null, bytesIn: 0 });
    expect(unsupported[0]!.error).toMatch(/REALITY/);
    expect(unsupported[1]).toMatchObject({ ok: null, method: "unsupported" });
    expect(unsupported[1]!.error).toMatch(/hysteria2/);
  });

  it("the batch answered within the timeout plus the core's start-up", () => {
    expect(batchMs).toBeLessThan(2500 + 3000);
  });

  it("a closed port fails fast, through the core and natively", async () => {
    const port = world.closedPort;
    const links = [
      link("vmess", port, { uuid: UUID }),
      link("trojan", port, { password: "p", security: "none" }),
      link("ss", port, { method: "aes-128-gcm", password: "p" }),
      link("socks5", port),
      link("http", port),
    ];
    const started = performance.now();
    const results = await checkNodes(links, { probeUrl: world.target.url, timeoutMs: 5000, v2rayBin: V2RAY });
    expect(performance.now() - started).toBeLessThan(2000);
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, method: "through-node" });
      expect(result.error).toMatch(/refused/);
    }
  });

  it("a blackhole (accepts, never answers) times out within the timeout", async () => {
    const port = world.blackhole.port;
    const links = [link("vmess", port, { uuid: UUID }), link("socks5", port), link("http", port)];
    const started = performance.now();
    const results = await checkNodes(links, { probeUrl: world.target.url, timeoutMs: 1500, v2rayBin: V2RAY });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1450);
    expect(elapsed).toBeLessThan(1500 + 1500);
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, method: "through-node", latencyMs: null });
      expect(result.error).toMatch(/within 1500 ms/);
    }
  });

  it("checkNode: the core has exited before the result is returned", async () => {
    const pids: number[] = [];
    const result = await checkNode(world.server.nodes.vless, {
      probeUrl: world.target.url,
      v2rayBin: V2RAY,
      onCoreStarted: ({ pid }) => pids.push(pid),
    });
    expect(result.ok).toBe(true);
    expect(pids).toHaveLength(1);
    expect(isRunning(pids[0]!)).toBe(false);
  });

  it("a native node needs no core", async () => {
    const pids: number[] = [];
    const result = await checkNode(world.server.nodes.socksAuth, {
      probeUrl: world.target.url,
      v2rayBin: V2RAY,
      onCoreStarted: ({ pid }) => pids.push(pid),
    });
    expect(result).toMatchObject({ ok: true, method: "through-node" });
    expect(pids).toEqual([]);
  });

  it("without v2ray: core nodes get TCP results labelled tcp, with the reason said once", async () => {
    const notices: string[] = [];
    const n = world.server.nodes;
    const results = await checkNodes([n.vmess, { ...n.vless, uuid: OTHER_UUID }, n.socks, HYSTERIA2], {
      probeUrl: world.target.url,
      v2rayBin: null,
      onNotice: (m) => notices.push(m),
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/v2ray not found/);
    // TCP cannot tell a wrong uuid: both "pass", labelled as the weaker method.
    expect(results[0]).toMatchObject({ ok: true, method: "tcp" });
    expect(results[1]).toMatchObject({ ok: true, method: "tcp" });
    expect(results[0]!.note).toMatch(/TCP reachability only/);
    expect(results[2]).toMatchObject({ ok: true, method: "through-node" });
    expect(results[3]).toMatchObject({ ok: null, method: "unsupported" });
  });

  it("a v2ray path that cannot be started falls back to TCP and says why", async () => {
    const notices: string[] = [];
    const [result] = await checkNodes([world.server.nodes.vmess], {
      probeUrl: world.target.url,
      v2rayBin: "/nonexistent/v2ray",
      onNotice: (m) => notices.push(m),
    });
    expect(result).toMatchObject({ ok: true, method: "tcp" });
    expect(notices[0]).toMatch(/cannot start v2ray at \/nonexistent\/v2ray/);
  });

  it("one node whose config v2ray refuses is isolated; the rest of the batch is checked", async () => {
    const n = world.server.nodes;
    const refused = link("vmess", n.vmess.port, { uuid: UUID, network: "kcp", headerType: "no-such-header" });
    const results = await checkNodes([n.vmess, refused, n.trojanTls, n.ssGcm], {
      probeUrl: world.target.url,
      v2rayBin: V2RAY,
    });
    expect(results.map((r) => r.ok)).toEqual([true, null, true, true]);
    expect(results[1]).toMatchObject({ method: "unsupported" });
    expect(results[1]!.error).toMatch(/refused this node's configuration.*header/);
    expect(liveChildPids()).toEqual([]);
  });

  it("an abort stops the checks and the core", async () => {
    const ac = new AbortController();
    const pids: number[] = [];
    const pending = checkNodes([link("vmess", world.blackhole.port, { uuid: UUID })], {
      probeUrl: world.target.url,
      timeoutMs: 10_000,
      v2rayBin: V2RAY,
      signal: ac.signal,
      onCoreStarted: ({ pid }) => {
        pids.push(pid);
        setTimeout(() => ac.abort(new Error("operator stopped the run")), 100);
      },
    });
    const started = performance.now();
    await expect(pending).rejects.toThrow("operator stopped the run");
    expect(performance.now() - started).toBeLessThan(3000);
    expect(pids).toHaveLength(1);
    expect(isRunning(pids[0]!)).toBe(false);
  });
});
