/**
 * HTTP API benchmark (issue 5), end to end on loopback against a store in a child process:
 *  1. 250-node signed pushes: p50/p99 latency and throughput, sequential and 8 at a time;
 *  2. `GET /api/nodes?country=SG,JP&max_latency=120` over 50,000 nodes: p50 with the indexes, then
 *     with the nodes indexes dropped (scratch database), EXPLAIN ANALYZE of both;
 *  3. a clash export of the 50,000 nodes over HTTP: time, body size, the store's peak RSS.
 * PGlite on disk always; Postgres too when DATABASE_URL_TEST is set (a scratch database in it).
 * Run: `pnpm --filter @viper/viper-store exec tsx bench/api.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { signRequest } from "@viper/protocol";
import pLimit from "p-limit";
import { freshPostgresDatabase } from "../test/helpers.js";
import { syntheticNodes } from "./synthetic.js";

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = "whsec_" + Buffer.alloc(32, 5).toString("base64");
const TOTAL = 50_000;
const BATCH = 250;
const PUSHES = 40; // per mode: 40 × 250 sequential, 40 × 250 eight at a time
const LIST_RUNS = 100;
const LIST_PATH = "/api/nodes?country=SG,JP&max_latency=120";

const ms = (v: number) => `${v.toFixed(1)} ms`;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

interface Child {
  url: string;
  rss: number;
  ask(command: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startChild(env: Record<string, string | undefined>): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(here, "api-server.ts")], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buffered = "";
  child.stdout!.on("data", (c: Buffer) => {
    buffered += c.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const l = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`benchmark store exited with ${code}`))),
  );
  const nextLine = () =>
    Promise.race([new Promise<string>((r) => (lines.length ? r(lines.shift()!) : waiters.push(r))), exited]);
  const ready = JSON.parse(await nextLine()) as { url: string; rss: number };
  return {
    ...ready,
    ask: async (command) => {
      child.stdin!.write(`${command}\n`);
      return JSON.parse(await nextLine()) as Record<string, unknown>;
    },
    stop: async () => {
      exited.catch(() => {});
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}

async function pushNodes(url: string, nodes: Record<string, unknown>[]): Promise<number> {
  const body = Buffer.from(
    JSON.stringify({
      event_type: "nodes_updated",
      timestamp: new Date(Date.now() - 60_000).toISOString(),
      source: "bench",
      nodes,
    }),
  );
  const started = performance.now();
  const res = await fetch(`${url}/webhook/nodes-update`, {
    method: "POST",
    headers: { ...signRequest({ body, secrets: SECRET }), "content-type": "application/json" },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`push answered ${res.status}`);
  return performance.now() - started;
}

async function pushes(url: string, all: Record<string, unknown>[], first: number, concurrency: number) {
  const limit = pLimit(concurrency);
  const started = performance.now();
  const times = await Promise.all(
    Array.from({ length: PUSHES }, (_, k) =>
      limit(() => pushNodes(url, all.slice((first + k) * BATCH, (first + k + 1) * BATCH))),
    ),
  );
  const wall = performance.now() - started;
  times.sort((a, b) => a - b);
  console.log(
    `  ${PUSHES} pushes of ${BATCH} nodes, ${concurrency === 1 ? "sequential " : `${concurrency} at a time`}: p50 ${ms(pct(times, 0.5))}, p99 ${ms(pct(times, 0.99))}, ${(PUSHES / (wall / 1000)).toFixed(1)} pushes/s (${((PUSHES * BATCH) / (wall / 1000)).toFixed(0)} nodes/s)`,
  );
}

async function listP50(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < LIST_RUNS + 5; i++) {
    const started = performance.now();
    const res = await fetch(url + LIST_PATH);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    if (i >= 5) times.push(performance.now() - started); // 5 warm-up requests
  }
  times.sort((a, b) => a - b);
  return pct(times, 0.5);
}

async function benchDriver(label: string, databaseUrl: string | undefined) {
  console.log(`\n== ${label}`);
  const dataDir = mkdtempSync(join(tmpdir(), "viper-api-bench-"));
  const child = await startChild({
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: "bench-admin-token-0123456789",
  });
  try {
    const all = syntheticNodes(TOTAL);
    await pushes(child.url, all, 0, 1);
    await pushes(child.url, all, PUSHES, 8);
    const seeded = 2 * PUSHES * BATCH;
    const seedStarted = performance.now();
    for (let from = seeded; from < TOTAL; from += 10_000)
      await pushNodes(child.url, all.slice(from, from + 10_000));
    console.log(`  seeded to ${TOTAL} nodes in ${ms(performance.now() - seedStarted)} (10,000-node pushes)`);
    await child.ask("analyze");

    const matched = ((await (await fetch(child.url + LIST_PATH)).json()) as { total: number }).total;
    console.log(`  GET ${LIST_PATH} (${matched} matches of ${TOTAL}, limit 100):`);
    const indexed = await listP50(child.url);
    const explainIndexed = await child.ask("explain");
    const dropped = (await child.ask("drop-indexes")).dropped as string[];
    const bare = await listP50(child.url);
    const explainBare = await child.ask("explain");
    console.log(`    p50 with indexes ${ms(indexed)}, without (${dropped.length} dropped) ${ms(bare)}`);
    for (const [what, e] of [
      ["with indexes", explainIndexed],
      ["without", explainBare],
    ] as const) {
      console.log(
        `    EXPLAIN ANALYZE of the page query ${what}:\n      ${(e.plan as string[]).join("\n      ")}`,
      );
      console.log(`    the same request's count(*): ${e.count}; max(updated_at): ${e.lastUpdated}`);
    }

    const before = (await child.ask("reset-peak")).rss as number;
    const started = performance.now();
    const res = await fetch(`${child.url}/api/nodes/export?format=clash`);
    const bytes = (await res.arrayBuffer()).byteLength;
    const elapsed = performance.now() - started;
    const peak = (await child.ask("peak")).peak as number;
    console.log(
      `  clash export of ${TOTAL} nodes over HTTP: ${res.status}, ${(bytes / 1e6).toFixed(1)} MB in ${ms(elapsed)}; store RSS ${(before / 1e6).toFixed(0)} MB before, peak ${(peak / 1e6).toFixed(0)} MB (+${((peak - before) / 1e6).toFixed(0)} MB)`,
    );
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  await benchDriver("PGlite (on disk)", undefined);
  if (process.env.DATABASE_URL_TEST) {
    const pg = await freshPostgresDatabase();
    try {
      await benchDriver("Postgres (DATABASE_URL_TEST, scratch database)", pg.url);
    } finally {
      await pg.drop();
    }
  } else {
    console.log("\n(Postgres skipped: DATABASE_URL_TEST is not set)");
  }
}

await main();
