import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_PYTHON, type SilentPort, startSilentPort } from "../test/support/silent.js";
import { median, tcpProbe, tcpProbeMany } from "./tcp.js";

let open: Server;
let openPort: number;
let closedPort: number;
let accepted = 0;
let silent: SilentPort;

beforeAll(async () => {
  open = createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((r) => open.listen(0, "127.0.0.1", r));
  openPort = (open.address() as { port: number }).port;
  const temp = createServer();
  await new Promise<void>((r) => temp.listen(0, "127.0.0.1", r));
  closedPort = (temp.address() as { port: number }).port;
  await new Promise((r) => temp.close(r));
  if (HAS_PYTHON) silent = await startSilentPort();
});
afterAll(async () => {
  await new Promise((r) => open.close(r));
  await silent?.close();
});

describe("tcpProbe", () => {
  it("an open port: 3 attempts, median latency, 100 % availability", async () => {
    const before = accepted;
    const result = await tcpProbe({ host: "127.0.0.1", port: openPort });
    expect(result.ok).toBe(true);
    expect(result.attempts).toHaveLength(3);
    expect(result.availability).toBe(100);
    expect(result.error).toBeNull();
    const latencies = result.attempts.map((a) => a.latencyMs!);
    expect(result.latencyMs).toBe(Math.round(median(latencies) * 10) / 10);
    expect(accepted - before).toBe(3);
  });

  it("a closed port fails fast with the reason, availability 0", async () => {
    const started = performance.now();
    const result = await tcpProbe({ host: "127.0.0.1", port: closedPort }, { timeoutMs: 3000 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ ok: false, latencyMs: null, availability: 0 });
    expect(result.error).toMatch(/refused/);
    expect(result.attempts.every((a) => a.code === "ECONNREFUSED")).toBe(true);
  });

  it("an unresolvable host says so", async () => {
    const result = await tcpProbe({ host: "no-such-node.invalid", port: 443 }, { attempts: 2 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toHaveLength(2);
    expect(result.error).toMatch(/cannot resolve no-such-node\.invalid/);
  });

  it.skipIf(!HAS_PYTHON)("gives up on a port that never answers, within the timeout", async () => {
    const started = performance.now();
    const result = await tcpProbe({ host: "127.0.0.1", port: silent.port }, { attempts: 2, timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(1000);
    expect(result).toMatchObject({ ok: false, availability: 0 });
    expect(result.error).toMatch(/no TCP handshake within 300 ms/);
  });

  it("the median of an even count is the mean of the middle two", async () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it("honours an abort", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(tcpProbe({ host: "127.0.0.1", port: openPort }, { signal: ac.signal })).rejects.toThrow(
      "stop",
    );
  });
});

describe("tcpProbeMany", () => {
  it("keeps input order", async () => {
    const targets = Array.from({ length: 20 }, (_, i) => ({
      host: "127.0.0.1",
      port: i % 4 ? openPort : closedPort,
    }));
    const results = await tcpProbeMany(targets, { concurrency: 4, attempts: 1 });
    expect(results.map((r) => r.ok)).toEqual(targets.map((_, i) => i % 4 !== 0));
  });

  it.skipIf(!HAS_PYTHON)("never runs more than `concurrency` probes at once", async () => {
    // 12 probes that each wait out a 200 ms timeout: 3 rounds at concurrency 4, 1 round unlimited.
    const targets = Array.from({ length: 12 }, () => ({ host: "127.0.0.1", port: silent.port }));
    const started = performance.now();
    const results = await tcpProbeMany(targets, { concurrency: 4, attempts: 1, timeoutMs: 200 });
    const elapsed = performance.now() - started;
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(1200);
  });
});
