/**
 * Benchmarks of issue 8, printed as figures:
 * 1. 200 loopback nodes (half alive, half closed ports) through ONE core batch vs one core per node.
 * 2. TCP probe of 1,000 endpoints at concurrency 64 vs the ideal bound.
 * 3. The precision meter (issue 10): bench/precision.ts. `pnpm bench precision` runs only that one.
 */
import { createServer, type Server } from "node:net";
import pLimit from "p-limit";
import { checkNode, checkNodes } from "../src/check.js";
import { liveChildPids } from "../src/child-registry.js";
import { locateV2ray } from "../src/env.js";
import { median, tcpProbeMany } from "../src/tcp.js";
import { link, UUID } from "../test/support/links.js";
import { HAS_PYTHON, startSilentPort } from "../test/support/silent.js";
import { closedPort, startTarget } from "../test/support/target.js";
import { startLoopbackNodes } from "./loopback-nodes.js";
import { benchPrecision } from "./precision.js";

const NODES = 200;
const CONCURRENCY = 32;
const TIMEOUT_MS = 5000;

async function benchCoreBatch(v2rayBin: string): Promise<void> {
  const target = await startTarget();
  const alive = await startLoopbackNodes(v2rayBin, NODES / 2);
  const dead = await Promise.all(
    Array.from({ length: NODES / 2 }, async (_, i) =>
      link(i % 2 ? "vmess" : "ss", await closedPort(), { uuid: UUID, method: "aes-128-gcm", password: "p" }),
    ),
  );
  const links = alive.links.flatMap((l, i) => [l, dead[i]!]);
  const options = { probeUrl: target.url, timeoutMs: TIMEOUT_MS, v2rayBin, concurrency: CONCURRENCY };

  // Warm-up (JIT, first spawn) so the first measured run is not charged for it.
  await checkNodes(links.slice(0, 20), options);

  let cores = 0;
  let startupMs = 0;
  const batchRuns: number[] = [];
  let batch: Awaited<ReturnType<typeof checkNodes>> = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    batch = await checkNodes(links, {
      ...options,
      onCoreStarted: (c) => {
        cores++;
        startupMs = c.startupMs;
      },
    });
    batchRuns.push(performance.now() - t0);
  }
  const batchMs = median(batchRuns);

  const limit = pLimit(CONCURRENCY);
  let perNodeCores = 0;
  const t1 = performance.now();
  const single = await Promise.all(
    links.map((l) => limit(() => checkNode(l, { ...options, onCoreStarted: () => perNodeCores++ }))),
  );
  const singleMs = performance.now() - t1;

  const passed = (rs: typeof batch) => rs.filter((r) => r.ok === true).length;
  const latency = (rs: typeof batch) =>
    median(rs.flatMap((r) => (r.ok && r.latencyMs !== null ? [r.latencyMs] : [])));
  console.log(
    `\n## ${NODES} loopback nodes (${NODES / 2} alive, ${NODES / 2} closed ports), concurrency ${CONCURRENCY}`,
  );
  console.log(
    `one core batch:    ${batchMs.toFixed(0)} ms wall (median of ${batchRuns.map((r) => r.toFixed(0)).join(", ")}), ` +
      `${cores / batchRuns.length} core per run, core start-up ${startupMs.toFixed(0)} ms, ` +
      `passed ${passed(batch)}/${NODES}, median latency ${latency(batch).toFixed(1)} ms`,
  );
  console.log(
    `one core per node: ${singleMs.toFixed(0)} ms wall, ${perNodeCores} cores, ` +
      `passed ${passed(single)}/${NODES}, median latency ${latency(single).toFixed(1)} ms`,
  );
  console.log(`speed-up: ${(singleMs / batchMs).toFixed(1)}x (target >= 5x)`);
  console.log(`cores left running: ${liveChildPids().length}`);
  await alive.close();
  await target.close();
}

async function benchTcp(): Promise<void> {
  const ENDPOINTS = 1000;
  const TCP_CONCURRENCY = 64;
  const listeners: Server[] = [];
  const openPorts: number[] = [];
  for (let i = 0; i < 50; i++) {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    listeners.push(server);
    openPorts.push((server.address() as { port: number }).port);
  }
  const closed = await Promise.all(Array.from({ length: 50 }, () => closedPort()));

  // Per-probe latency with nothing else running: the unit of the ideal bound.
  const alone: number[] = [];
  for (let i = 0; i < 50; i++) {
    const [r] = await tcpProbeMany([{ host: "127.0.0.1", port: openPorts[i]! }], { attempts: 1 });
    alone.push(r!.latencyMs!);
  }
  const perProbe = median(alone);

  // (a) open and refused endpoints, 3 attempts each (the quick test).
  const mixed = Array.from({ length: ENDPOINTS }, (_, i) => ({
    host: "127.0.0.1",
    port: i % 2 ? openPorts[i % 50]! : closed[i % 50]!,
  }));
  const t0 = performance.now();
  const results = await tcpProbeMany(mixed, { concurrency: TCP_CONCURRENCY, attempts: 3, timeoutMs: 1000 });
  const wall = performance.now() - t0;
  const loaded = median(
    results.flatMap((r) => r.attempts.flatMap((a) => (a.latencyMs === null ? [] : [a.latencyMs]))),
  );
  const ideal = Math.ceil(ENDPOINTS / TCP_CONCURRENCY) * 3 * perProbe;
  console.log(
    `\n## TCP probe: ${ENDPOINTS} endpoints (half open, half refused), 3 attempts, concurrency ${TCP_CONCURRENCY}`,
  );
  console.log(
    `wall ${wall.toFixed(0)} ms; ideal ceil(${ENDPOINTS}/${TCP_CONCURRENCY}) x 3 x ${perProbe.toFixed(2)} ms (handshake alone) = ` +
      `${ideal.toFixed(0)} ms; ${((ENDPOINTS * 3) / (wall / 1000)).toFixed(0)} connects/s; handshake under load ${loaded.toFixed(2)} ms; ` +
      `open ok ${results.filter((r) => r.ok).length}/${ENDPOINTS / 2}`,
  );

  // (b) open and silent (filtered) endpoints: the silent ones cost the whole timeout.
  if (HAS_PYTHON) {
    const silent = await startSilentPort();
    const timeoutMs = 300;
    const filtered = Array.from({ length: ENDPOINTS }, (_, i) => ({
      host: "127.0.0.1",
      port: i % 2 ? openPorts[i % 50]! : silent.port,
    }));
    const t1 = performance.now();
    const r2 = await tcpProbeMany(filtered, { concurrency: TCP_CONCURRENCY, attempts: 1, timeoutMs });
    const wall2 = performance.now() - t1;
    const silentCount = ENDPOINTS / 2;
    const ideal2 = Math.ceil(silentCount / TCP_CONCURRENCY) * timeoutMs;
    console.log(
      `\n## TCP probe: ${ENDPOINTS} endpoints (half open, half silent), 1 attempt, timeout ${timeoutMs} ms, concurrency ${TCP_CONCURRENCY}`,
    );
    console.log(
      `wall ${wall2.toFixed(0)} ms; ideal ceil(${silentCount}/${TCP_CONCURRENCY}) x ${timeoutMs} ms = ${ideal2} ms ` +
        `(ratio ${(wall2 / ideal2).toFixed(2)}); timed out ${r2.filter((r) => !r.ok).length}/${silentCount}`,
    );
    await silent.close();
  } else {
    console.log("(silent-endpoint TCP bench skipped: python3 not found)");
  }
  await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
}

const v2rayBin = locateV2ray();
const only = process.argv[2];
if (only === undefined || only === "cores") {
  if (v2rayBin) await benchCoreBatch(v2rayBin);
  else console.log("core batch bench skipped: v2ray not found (apt-get install v2ray or set V2RAY_BIN)");
}
if (only === undefined || only === "tcp") await benchTcp();
if (only === undefined || only === "precision") await benchPrecision(v2rayBin);
