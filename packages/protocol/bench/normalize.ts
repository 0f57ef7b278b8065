/**
 * Normalise + identity throughput (target ≥ 50,000 nodes/s): the largest fixture file when
 * FIXTURES_DIR or <repo>/../shared/fixtures is there, synthetic nodes otherwise (and always, too).
 * Run: pnpm --filter @viper/protocol bench
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatShareLink, normalizePayload } from "../src/index.js";
import type { ShareLink } from "../src/types.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = process.env["FIXTURES_DIR"] ?? resolve(here, "../../../../shared/fixtures");
const snapshotsDir = join(fixturesDir, "spiderflow-snapshots");

/** Runs normalizePayload on `input` for about `ms` milliseconds; returns nodes per second. */
function measure(label: string, input: unknown, nodeCount: number, ms = 1500): void {
  const now = new Date();
  for (let i = 0; i < 3; i++) normalizePayload(input, { now }); // warm up the JIT
  let rounds = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < ms) {
    const r = normalizePayload(input, { now });
    if (!r.ok) throw new Error(`${label}: payload refused: ${JSON.stringify(r.issues)}`);
    rounds++;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const nodes = rounds * nodeCount;
  // Wall-clock rate, and the rate per CPU-second (steadier when other work shares the cores).
  const wall = Math.round(nodes / (elapsed / 1000)).toLocaleString("en-US");
  const perCpu = Math.round(nodes / cpuS).toLocaleString("en-US");
  console.log(
    `${label}: ${nodes} nodes in ${Math.round(elapsed)} ms → ${wall} nodes/s wall, ${perCpu} nodes/CPU-s`,
  );
}

function syntheticNodes(count: number): unknown[] {
  const nodes: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const host = `198.51.100.${i % 250}`;
    const port = 10000 + (i % 50000);
    const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const base: ShareLink = {
      protocol: "vless",
      host,
      port,
      name: `节点 ${i} 🇸🇬`,
      network: "tcp",
      security: "none",
      params: {},
    };
    const kind = i % 4;
    const link: ShareLink =
      kind === 0
        ? {
            ...base,
            protocol: "vmess",
            uuid,
            alterId: 0,
            network: "ws",
            path: "/ray",
            hostHeader: "cdn.example",
            security: "tls",
            sni: "cdn.example",
          }
        : kind === 1
          ? {
              ...base,
              uuid,
              encryption: "none",
              security: "reality",
              realityPublicKey: "pk",
              realityShortId: "ab",
              fingerprint: "chrome",
              flow: "xtls-rprx-vision",
            }
          : kind === 2
            ? {
                ...base,
                protocol: "trojan",
                password: `pw${i}`,
                security: "tls",
                sni: "t.example",
                allowInsecure: true,
              }
            : { ...base, protocol: "ss", method: "aes-256-gcm", password: `pw${i}` };
    nodes.push({
      url: formatShareLink(link),
      country: "SG",
      latency: 100 + (i % 300),
      speed: 12.5,
      availability: 99,
    });
  }
  return nodes;
}

if (existsSync(snapshotsDir)) {
  const largest = readdirSync(snapshotsDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ f, size: statSync(join(snapshotsDir, f)).size }))
    .sort((a, b) => b.size - a.size)[0];
  if (largest !== undefined) {
    const input = JSON.parse(readFileSync(join(snapshotsDir, largest.f), "utf8")) as unknown[];
    measure(`largest fixture (${largest.f}, bare array)`, input, input.length);
  }
} else {
  console.log(`fixtures not found at ${snapshotsDir} (set FIXTURES_DIR); measuring synthetic nodes only`);
}
const synthetic = syntheticNodes(10_000);
measure(
  "synthetic v1 envelope (vmess/vless/trojan/ss mix)",
  {
    event_type: "nodes_snapshot",
    timestamp: new Date().toISOString(),
    nodes: synthetic,
  },
  synthetic.length,
);
