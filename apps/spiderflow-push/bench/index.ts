/**
 * Sender benchmark (issue 6):
 *  1. client overhead (gzip + sign) for a 250-node payload as a share of a loopback round trip to a
 *     real viper-store (in-memory PGlite); target ≤ 10%.
 *  2. gzip ratio of the wire payload on the fixture snapshots; target ≥ 5×.
 * Synthetic nodes only use documentation addresses; fixtures are read from FIXTURES_DIR or
 * <repo>/../shared/fixtures and skipped with a note when absent.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { signRequest } from "@viper/protocol";
import { createPusher, prepareFromDocument, prepareFromNodes } from "../src/index.js";
import { startRealStore, storeSkipReason } from "../test/real-store.js";

const NODES = 250;
const OVERHEAD_RUNS = 200;
const ROUND_TRIPS = 40;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function syntheticNodes(count: number, variant: number): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, index) => ({
    url: `vless://00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}@${["192.0.2", "198.51.100", "203.0.113"][index % 3]}.${(index % 250) + 1}:443?type=ws&security=tls&sni=n${index}.example&path=%2Fws#node-${index}`,
    name: `node ${index}`,
    country: ["SG", "JP", "US", "DE"][index % 4],
    latency: 50 + ((index * 7 + variant) % 300),
    speed: Math.round((1 + ((index + variant) % 40) / 3) * 100) / 100,
    availability: 90 + (index % 10),
  }));
}

async function overheadVersusRoundTrip(): Promise<void> {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  if (storeSkipReason) {
    console.log(`round trip: skipped, ${storeSkipReason}`);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "spiderflow-push-bench-"));
  const store = await startRealStore(secret, dataDir);
  try {
    const prepared = prepareFromNodes(syntheticNodes(NODES, 0), {
      eventType: "nodes_updated",
      source: "bench",
    });
    const overhead: number[] = [];
    for (let run = 0; run < OVERHEAD_RUNS; run++) {
      const t0 = performance.now();
      const body = gzipSync(prepared.json);
      signRequest({ body, secrets: secret, timestamp: Math.floor(Date.now() / 1000) });
      overhead.push(performance.now() - t0);
    }
    const pusher = createPusher({
      url: `${store.url}/webhook/nodes-update`,
      secrets: secret,
      historyFile: null,
    });
    const roundTrips: number[] = [];
    for (let run = 0; run < ROUND_TRIPS; run++) {
      // New metrics every run, so the store really merges (no skip, no "unchanged" shortcut).
      const outcome = await pusher.push(syntheticNodes(NODES, run + 1), { eventType: "nodes_updated" });
      if (outcome.status !== "delivered")
        throw new Error(`bench push ${run} was ${outcome.status}: ${outcome.reason}`);
      if (run >= 5) roundTrips.push(outcome.attempts[0]?.durationMs ?? 0); // first runs warm up PGlite
    }
    const overheadMs = median(overhead);
    const roundTripMs = median(roundTrips);
    const share = (overheadMs / roundTripMs) * 100;
    console.log(
      `payload: ${NODES} nodes, ${prepared.json.byteLength} B JSON → ${gzipSync(prepared.json).byteLength} B gzip`,
    );
    console.log(`client overhead (gzip + sign), median of ${OVERHEAD_RUNS}: ${overheadMs.toFixed(3)} ms`);
    console.log(
      `loopback round trip to viper-store (PGlite in memory), median of ${roundTrips.length}: ${roundTripMs.toFixed(1)} ms`,
    );
    console.log(`overhead share: ${share.toFixed(2)}% (target ≤ 10%) ${share <= 10 ? "OK" : "OVER TARGET"}`);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function gzipRatioOnFixtures(): void {
  const dir = join(
    process.env.FIXTURES_DIR ?? join(import.meta.dirname, "..", "..", "..", "..", "shared", "fixtures"),
    "spiderflow-snapshots",
  );
  if (!existsSync(dir)) {
    console.log(`gzip ratio: skipped, no fixtures at ${dir} (set FIXTURES_DIR)`);
    return;
  }
  let json = 0;
  let gzip = 0;
  const ratios: number[] = [];
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort();
  for (const name of files) {
    const prepared = prepareFromDocument(JSON.parse(readFileSync(join(dir, name), "utf8")));
    const compressed = gzipSync(prepared.json).byteLength;
    json += prepared.json.byteLength;
    gzip += compressed;
    ratios.push(prepared.json.byteLength / compressed);
  }
  const overall = json / gzip;
  console.log(
    `gzip ratio on ${files.length} fixture payloads: ${overall.toFixed(2)}× overall (${json} → ${gzip} B), ` +
      `per file min ${Math.min(...ratios).toFixed(2)}× median ${median(ratios).toFixed(2)}× max ${Math.max(...ratios).toFixed(2)}× ` +
      `(target ≥ 5×) ${overall >= 5 ? "OK" : "UNDER TARGET"}`,
  );
}

await overheadVersusRoundTrip();
gzipRatioOnFixtures();
