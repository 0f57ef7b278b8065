import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { startFeed, type TestFeed, waitFor } from "./feed-server.js";
import { freshPostgresDatabase, hasPostgres, SECRET, synthNode } from "./helpers.js";

const mainJs = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
const TICKS = 20;

interface Replica {
  child: ChildProcess;
  stderr(): string;
}

function startReplica(env: Record<string, string>): Replica {
  let err = "";
  const child = spawn(process.execPath, [mainJs], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { child, stderr: () => err };
}

async function stopReplica(r: Replica): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((resolve) => r.child.once("exit", resolve));
  r.child.kill("SIGTERM");
  await exited;
}

// Test 7 of issue 7: real processes, one real Postgres; skipped without DATABASE_URL_TEST.
describe.skipIf(!hasPostgres || !existsSync(mainJs))("two store processes on one Postgres", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  it(`every one of ${TICKS} one-second ticks is polled and applied by exactly one replica`, async () => {
    let version = 0;
    // New content on every request: each tick is a change, so each tick leaves one delivery.
    const feed: TestFeed = await startFeed(() => ({ nodes: [synthNode(1, { latency: 100 + ++version })] }));
    cleanup.push(() => feed.close());
    const pg = await freshPostgresDatabase();
    cleanup.push(() => pg.drop());
    const replicas: Replica[] = [];
    for (const name of ["a", "b"]) {
      const dataDir = mkdtempSync(join(tmpdir(), `viper-replica-${name}-`));
      cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const replica = startReplica({
        PORT: "0",
        DATA_DIR: dataDir,
        DATABASE_URL: pg.url,
        WEBHOOK_SECRET: SECRET,
        ADMIN_TOKEN: "test-admin-token-0123456789",
        SPIDERFLOW_API_URL: feed.url,
        POLL_INTERVAL: "1",
        PROBE_STALE_AFTER: "0",
      });
      cleanup.push(() => stopReplica(replica));
      replicas.push(replica);
      // One at a time: two processes must not run the migrations at the same moment.
      await waitFor(async () => /listening on/.test(replica.stderr()), 30_000, `replica ${name} to listen`);
    }
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    const polls = async () =>
      (await sql`select count(*)::int as n from deliveries where mechanism = 'poll'`)[0]!.n as number;
    await waitFor(async () => (await polls()) >= TICKS, 60_000, `${TICKS} polls`);
    await Promise.all(replicas.map(stopReplica));

    const deliveries = await sql`select id from deliveries where mechanism = 'poll'`;
    const state = (await sql`select value from sync_state where key = 'poll'`)[0]!.value as Record<
      string,
      unknown
    >;
    const count = (re: RegExp) => replicas.map((r) => (r.stderr().match(re) ?? []).length);
    const perReplica = count(/poll by \S+: changed/g);
    const claimsPerReplica = count(/poll by \S+: /g);
    const total = deliveries.length;
    const claims = claimsPerReplica.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(TICKS);
    // Every applied poll was logged by exactly one replica; at most one poll per replica was cut
    // short by the shutdown (an error, nothing applied).
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(total);
    expect(claims - total).toBeLessThanOrEqual(2);
    expect(Number(state.poll_count)).toBe(claims);
    expect(Number(state.changed_count)).toBe(total);
    // Each claim fetched the feed once: no replica polled a tick it had not won.
    const fetched = feed.answers.filter((s) => s === 200).length;
    expect(fetched).toBeGreaterThanOrEqual(total);
    expect(fetched).toBeLessThanOrEqual(claims);
    // No tick taken twice: in database time, claims are ≥ 0.9 s apart (1 s ± 10% jitter).
    const times = replicas
      .flatMap((r) => [...r.stderr().matchAll(/tick claimed at (\S+)\)/g)].map((m) => Date.parse(m[1]!)))
      .sort((a, b) => a - b);
    expect(times).toHaveLength(claims);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(899);
    process.stderr.write(
      `poll-replicas: ${total} ticks, per replica ${perReplica.join(" / ")}, gaps ${Math.min(...gaps)}..${Math.max(...gaps)} ms\n`,
    );
  }, 90_000);
});
