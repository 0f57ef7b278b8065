/**
 * Precision test benchmark (issue 10): unthrottled loopback, `via: "direct"` through the store's
 * endpoint (HTTP request, reservation, meter, row, ledger) against `curl -o /dev/null` of the same
 * URL in the same run, alternating, median of RUNS. Target: the store ≥ 0.8 × curl.
 * Run: `pnpm --filter @viper/viper-store exec tsx bench/precision.ts`.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startStore } from "../src/store.js";
import { envelope, push, SECRET } from "../test/helpers.js";

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

// The file server runs in a process of its own, as a real one would: in the store's process it
// would share the event loop with the meter (and curl would get it alone).
const FILE_SERVER = `
const { createServer } = require("node:http");
const chunk = Buffer.alloc(1024 * 1024, 0x61);
const server = createServer((req, res) => {
  const bytes = Number(new URL(req.url, "http://x").searchParams.get("bytes") || 0);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;
const files = spawn(process.execPath, ["-e", FILE_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<number>((resolve) =>
  files.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
);
const origin = `http://127.0.0.1:${port}`;
const template = `${origin}/file?bytes={bytes}`;
const url = template.replace("{bytes}", String(SIZE_MB * 1e6));

const dataDir = mkdtempSync(join(tmpdir(), "viper-precision-bench-"));
const store = await startStore({
  PORT: 0,
  DATA_DIR: dataDir,
  DATABASE_URL: "pglite:memory",
  WEBHOOK_SECRET: SECRET,
  ADMIN_TOKEN: "bench-admin-token-0123456789",
  PRECISION_TEST_URLS: template,
  PRECISION_MAX_MB: SIZE_MB,
  PRECISION_MAX_SECONDS: 120,
  PRECISION_PER_IP_PER_HOUR: 1000,
  PROBE_STALE_AFTER: 0,
  POLL_INTERVAL: 0,
  log: () => {},
});
await push(store, envelope([{ url: "trojan://pw@192.0.2.10:443?sni=a.example#bench", name: "bench" }]));
const nodes = (await (await fetch(`${store.url}/api/nodes?limit=1`)).json()) as { nodes: { id: string }[] };
const nodeId = nodes.nodes[0]!.id;

/** Async: the file server runs in this process, a blocking spawn would starve it. */
async function curlMbPerS(): Promise<number> {
  const { stdout } = await promisify(execFile)("curl", [
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{speed_download} %{size_download}",
    url,
  ]);
  const [speed, size] = stdout.trim().split(" ").map(Number);
  if (size !== SIZE_MB * 1e6) throw new Error(`curl got ${size} bytes`);
  return speed! / 1e6;
}

async function storeMbPerS(): Promise<number> {
  const res = await fetch(`${store.url}/api/nodes/precision-test`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ node_id: nodeId, size_mb: SIZE_MB, confirm: true, via: "direct" }),
  });
  const body = (await res.json()) as { status: string; mb_per_s: number; bytes_downloaded: number };
  if (res.status !== 200 || body.status !== "success")
    throw new Error(`store: ${res.status} ${JSON.stringify(body)}`);
  return body.mb_per_s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const storeRuns: number[] = [];
const curlRuns: number[] = [];
try {
  // One warm-up of each (JIT, first connections), not counted.
  await storeMbPerS();
  await curlMbPerS();
  for (let i = 0; i < RUNS; i++) {
    storeRuns.push(await storeMbPerS());
    curlRuns.push(await curlMbPerS());
  }
} finally {
  await store.close();
  files.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
console.log(`precision test, direct, unthrottled loopback, ${SIZE_MB} MB × ${RUNS} (MB/s = 10^6 B/s)`);
console.log(`  store endpoint: median ${median(storeRuns).toFixed(0)} MB/s  [${fmt(storeRuns)}]`);
console.log(`  curl -o /dev/null: median ${median(curlRuns).toFixed(0)} MB/s  [${fmt(curlRuns)}]`);
const pairs = storeRuns.map((x, i) => x / curlRuns[i]!);
console.log(
  `  ratio per pair: [${pairs.map((r) => r.toFixed(2)).join(", ")}], median ${median(pairs).toFixed(2)}`,
);
console.log(
  `  ratio store/curl (medians): ${(median(storeRuns) / median(curlRuns)).toFixed(2)} (target ≥ 0.8)`,
);
