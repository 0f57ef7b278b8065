/** The core driver against the real v2ray binary. */
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import type { ShareLink } from "@viper/protocol";
import { describe, expect, it } from "vitest";
import { liveChildPids } from "../src/child-registry.js";
import { CoreStartError, startCore } from "../src/core.js";
import { buildCoreConfig } from "../src/v2ray-config.js";
import { link, UUID } from "./support/links.js";
import { isRunning, needsV2ray, V2RAY } from "./support/v2ray.js";

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** One link of every shape the core path generates. */
const CORE_LINKS: ShareLink[] = [
  link("vmess", 1001, { uuid: UUID, method: "zero" }),
  link("vmess", 1002, {
    uuid: UUID,
    network: "ws",
    security: "tls",
    path: "/w",
    hostHeader: "h.example",
    alpn: "h2",
  }),
  link("vmess", 1003, { uuid: UUID, network: "h2", security: "tls", hostHeader: "h.example" }),
  link("vmess", 1004, { uuid: UUID, network: "kcp", headerType: "wechat-video", params: { seed: "s" } }),
  link("vmess", 1005, { uuid: UUID, network: "quic", params: { quicSecurity: "aes-128-gcm", key: "k" } }),
  link("vmess", 1006, { uuid: UUID, headerType: "http", path: "/", hostHeader: "a.example,b.example" }),
  link("vless", 1007, { uuid: UUID, security: "tls", sni: "s.example", allowInsecure: true }),
  link("trojan", 1008, { password: "p", security: "tls" }),
  link("trojan", 1009, { password: "p", security: "none", network: "ws", path: "/t" }),
  link("ss", 1010, { method: "aes-256-gcm", password: "p" }),
  link("ss", 1011, { method: "chacha20-poly1305", password: "p" }),
  link("ss", 1012, { method: "none", password: "p" }),
  link("ss", 1013, {
    method: "aes-128-gcm",
    password: "p",
    plugin: "v2ray-plugin;mode=websocket;tls;host=h.example",
  }),
];

describe.skipIf(!V2RAY)(needsV2ray("startCore with the real v2ray"), () => {
  it("every generated configuration shape passes `v2ray -test`", () => {
    const config = buildCoreConfig(CORE_LINKS.map((l, i) => ({ link: l, port: 30_000 + i })));
    const run = spawnSync(V2RAY!, ["-test", "-config", "stdin:"], {
      input: JSON.stringify(config),
      encoding: "utf8",
    });
    expect(run.stdout + run.stderr).toContain("Configuration OK");
    expect(run.status).toBe(0);
  });

  it("is ready when it resolves: every inbound accepts at once, no sleeping", async () => {
    const core = await startCore(CORE_LINKS.slice(0, 4), { v2rayBin: V2RAY! });
    try {
      expect(core.endpoints).toHaveLength(4);
      expect(new Set(core.endpoints.map((e) => e.port)).size).toBe(4);
      expect(await Promise.all(core.endpoints.map((e) => accepts(e.port)))).toEqual([true, true, true, true]);
      expect(core.endpoints[0]!.proxyUrl).toBe(`http://127.0.0.1:${core.endpoints[0]!.port}`);
      expect(core.running).toBe(true);
    } finally {
      await core.close();
    }
    expect(core.running).toBe(false);
    expect(isRunning(core.pid)).toBe(false);
    await core.close(); // idempotent
  });

  it("two cores at once never share a port", async () => {
    const [a, b] = await Promise.all([
      startCore(CORE_LINKS.slice(0, 5), { v2rayBin: V2RAY! }),
      startCore(CORE_LINKS.slice(0, 5), { v2rayBin: V2RAY! }),
    ]);
    const ports = [...a.endpoints, ...b.endpoints].map((e) => e.port);
    expect(new Set(ports).size).toBe(10);
    await Promise.all([a.close(), b.close()]);
  });

  it("a configuration v2ray refuses is a CoreStartError carrying v2ray's message", async () => {
    const bad = link("vmess", 1, { uuid: UUID, network: "kcp", headerType: "no-such-header" });
    const error = await startCore([bad], { v2rayBin: V2RAY! }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoreStartError);
    expect((error as CoreStartError).failure).toBe("config-rejected");
    expect((error as CoreStartError).message).toMatch(/header/);
  });

  it("a missing binary is a spawn failure, not a hang", async () => {
    const error = await startCore([CORE_LINKS[0]!], { v2rayBin: "/nonexistent/v2ray" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CoreStartError);
    expect((error as CoreStartError).failure).toBe("spawn-failed");
  });

  it("a node the core cannot honour is refused before anything runs", async () => {
    await expect(
      startCore([link("vless", 1, { uuid: UUID, security: "reality" })], { v2rayBin: V2RAY! }),
    ).rejects.toThrow(TypeError);
  });

  it("notices when the core dies on its own", async () => {
    const core = await startCore([CORE_LINKS[0]!], { v2rayBin: V2RAY! });
    process.kill(core.pid, "SIGKILL");
    for (let i = 0; i < 50 && core.running; i++) await new Promise((r) => setTimeout(r, 10));
    expect(core.running).toBe(false);
    expect(core.crash).toMatch(/v2ray exited \(SIGKILL\)/);
    await core.close();
  });

  it.each([0, 5])("an abort during start-up (after %i ms) leaves no process", async (delayMs) => {
    const ac = new AbortController();
    const pending = startCore([CORE_LINKS[0]!], { v2rayBin: V2RAY!, signal: ac.signal });
    if (delayMs === 0) ac.abort(new Error("stop"));
    else setTimeout(() => ac.abort(new Error("stop")), delayMs);
    await expect(pending).rejects.toThrow("stop");
    expect(liveChildPids()).toEqual([]);
  });
});
